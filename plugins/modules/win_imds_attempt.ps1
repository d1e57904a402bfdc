#!powershell

# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# One HTTP exchange with IMDS from a Windows host, over a plain TCP socket.
# The controller builds the request bytes and reads the answer; this script only
# connects, sends and receives. A socket has no proxy, follows no redirect and adds
# no header, so the rules the controller keeps cannot be bent by the Windows HTTP
# stack. Failures are reported by SocketError name, which Windows never translates,
# unlike exception messages; other failures by the innermost .NET exception (PowerShell
# wraps a method's exception in MethodInvocationException). Windows PowerShell 5.1 syntax
# and .NET Framework 4.5 APIs.
#
# A secret answer (seal_to given) never leaves in clear: it is sealed to the controller's
# one-task RSA key (RSA-OAEP-SHA1 wrapping 64 random bytes: an AES-256-CBC key and an
# HMAC-SHA256 key, encrypt-then-MAC); see plugins/module_utils/_seal.py for the envelope.
# Timeouts arrive as whole milliseconds (Int32): no float option, whose parsing would
# depend on the host's culture.

$spec = @{
    options = @{
        address = @{ type = 'str'; required = $true }
        port = @{ type = 'int'; default = 80 }
        request = @{ type = 'str'; required = $true }
        connect_timeout_ms = @{ type = 'int'; required = $true }
        read_timeout_ms = @{ type = 'int'; required = $true }
        max_bytes = @{ type = 'int'; required = $true }
        seal_to = @{ type = 'str' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changed = $false
$module.Result.response = ''
$module.Result.received = 0
$module.Result.complete = $false
$module.Result.limit_reached = $false
$module.Result.error = $null
$module.Result.elapsed = 0.0
$module.Result.sealed = $null

Function Get-InnermostException {
    <# The exception at the end of the InnerException chain: the .NET failure inside PowerShell's wrappers. #>
    param([System.Exception]$Failure)
    $current = $Failure
    while ($null -ne $current.InnerException) {
        $current = $current.InnerException
    }
    return $current
}

Function Get-SocketErrorName {
    <# The SocketError name of an exception or of one it wraps, else the innermost exception's type name. #>
    param([System.Exception]$Failure)
    $current = $Failure
    while ($null -ne $current) {
        if ($current -is [System.Net.Sockets.SocketException]) {
            return $current.SocketErrorCode.ToString()
        }
        $current = $current.InnerException
    }
    return (Get-InnermostException -Failure $Failure).GetType().FullName
}

Function Set-AttemptError {
    param([string]$Kind, [string]$Code, [string]$Message)
    $module.Result.error = @{ kind = $Kind; code = $Code; message = $Message }
}

Function Set-FailureError {
    <# The error of a caught failure: its SocketError name (or innermost type) and the innermost message. #>
    param([string]$Kind, [System.Exception]$Failure)
    $code = Get-SocketErrorName -Failure $Failure
    if ($Kind -eq 'exchange') {
        $Kind = 'connection_failed'
        if ($code -eq 'TimedOut') {
            $Kind = 'read_timeout'
        }
    }
    Set-AttemptError -Kind $Kind -Code $code -Message (Get-InnermostException -Failure $Failure).Message
}

Function Join-Bytes {
    param([object[]]$Parts)
    $joined = New-Object -TypeName System.IO.MemoryStream
    foreach ($part in $Parts) {
        $joined.Write($part, 0, $part.Length)
    }
    return , $joined.ToArray()
}

Function Protect-Answer {
    <# The envelope of $Plain sealed to the controller's RSA 2048 modulus (base64), as _seal.py documents. #>
    param([byte[]]$Plain, [byte[]]$Modulus)
    $cipherName = 'AES-256-CBC'
    $rsa = New-Object -TypeName System.Security.Cryptography.RSACryptoServiceProvider
    $aes = New-Object -TypeName System.Security.Cryptography.AesCryptoServiceProvider
    $random = New-Object -TypeName System.Security.Cryptography.RNGCryptoServiceProvider
    try {
        $rsa.PersistKeyInCsp = $false
        $rsa.FromXmlString('<RSAKeyValue><Modulus>' + [System.Convert]::ToBase64String($Modulus) +
            '</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>')
        $material = New-Object -TypeName byte[] -ArgumentList 64
        $random.GetBytes($material)
        # fOAEP $true: OAEP padding with SHA-1 (RSACryptoServiceProvider.Encrypt docs).
        $wrapped = $rsa.Encrypt($material, $true)
        $aes.KeySize = 256
        $aes.Mode = [System.Security.Cryptography.CipherMode]::CBC
        $aes.Padding = [System.Security.Cryptography.PaddingMode]::PKCS7
        $aes.Key = [byte[]]$material[0..31]
        $aes.GenerateIV()
        $encryptor = $aes.CreateEncryptor()
        $data = $encryptor.TransformFinalBlock($Plain, 0, $Plain.Length)
        $encryptor.Dispose()
        $header = [System.Text.Encoding]::ASCII.GetBytes("imds.azure.seal.v1`n$cipherName`n")
        $hmac = New-Object -TypeName System.Security.Cryptography.HMACSHA256 -ArgumentList (, [byte[]]$material[32..63])
        $mac = $hmac.ComputeHash((Join-Bytes -Parts @($header, $wrapped, $aes.IV, $data)))
        $hmac.Dispose()
        return @{
            v = 1
            alg = $cipherName
            key = [System.Convert]::ToBase64String($wrapped)
            iv = [System.Convert]::ToBase64String($aes.IV)
            data = [System.Convert]::ToBase64String($data)
            mac = [System.Convert]::ToBase64String($mac)
        }
    }
    finally {
        $rsa.Dispose()
        $aes.Dispose()
        $random.Dispose()
    }
}

Function Set-Answer {
    <# The answer in the result: sealed when the controller gave a key, else base64. #>
    param([byte[]]$Answer)
    $module.Result.received = [int]$Answer.Length
    if ($null -ne $sealModulus) {
        try {
            $module.Result.sealed = Protect-Answer -Plain $Answer -Modulus $sealModulus
        }
        catch {
            # Not a network failure: no retry would help, and the answer must not leave unsealed.
            $failure = Get-InnermostException -Failure $_.Exception
            $module.FailJson('Cannot seal the answer on this host: ' + $failure.GetType().FullName + ': ' + $failure.Message)
        }
    }
    else {
        $module.Result.response = [System.Convert]::ToBase64String($Answer)
    }
}

Function Resolve-Target {
    <# The address to connect to: a literal as given, else the first IPv4 address of the name. #>
    param([string]$Name)
    $literal = $null
    if ([System.Net.IPAddress]::TryParse($Name, [ref]$literal)) {
        return $literal
    }
    $found = @([System.Net.Dns]::GetHostAddresses($Name))
    if ($found.Count -eq 0) {
        # A name can resolve to no address at all: report it as the attempt's connect failure, as an unknown
        # name is, instead of building a client for a null address. 11001 is WSAHOST_NOT_FOUND (HostNotFound).
        throw (New-Object -TypeName System.Net.Sockets.SocketException -ArgumentList 11001)
    }
    $ipv4 = @($found | Where-Object { $_.AddressFamily -eq [System.Net.Sockets.AddressFamily]::InterNetwork })
    if ($ipv4.Count -gt 0) {
        return $ipv4[0]
    }
    return $found[0]
}

Function Invoke-Exchange {
    param([System.Net.Sockets.TcpClient]$Client, [byte[]]$RequestBytes, [int]$ReadMilliseconds, [int]$MaxBytes)
    $stream = $Client.GetStream()
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $stream.WriteTimeout = $ReadMilliseconds
    $stream.Write($RequestBytes, 0, $RequestBytes.Length)
    $buffer = New-Object -TypeName byte[] -ArgumentList 65536
    $answer = New-Object -TypeName System.IO.MemoryStream
    try {
        while ($true) {
            # One deadline for the whole answer: a server that drips bytes never trips a per-read timeout.
            $remaining = $ReadMilliseconds - $clock.ElapsedMilliseconds
            if ($remaining -le 0) {
                Set-AttemptError -Kind 'read_timeout' -Code 'TimedOut' -Message 'answer not complete before the read deadline'
                break
            }
            $stream.ReadTimeout = [int]$remaining
            $count = $stream.Read($buffer, 0, $buffer.Length)
            if ($count -eq 0) {
                $module.Result.complete = $true
                break
            }
            $answer.Write($buffer, 0, $count)
            if ($answer.Length -gt $MaxBytes) {
                $module.Result.limit_reached = $true
                break
            }
        }
        Set-Answer -Answer $answer.ToArray()
    }
    finally {
        $answer.Dispose()
    }
}

$params = $module.Params
$connectMilliseconds = $params.connect_timeout_ms
$readMilliseconds = $params.read_timeout_ms
$requestBytes = [System.Convert]::FromBase64String($params.request)
$sealModulus = $null
if ($null -ne $params.seal_to) {
    try {
        $sealModulus = [System.Convert]::FromBase64String($params.seal_to)
    }
    catch {
        $module.FailJson('seal_to is not base64 text; this option is set by the imds.azure action plugins.')
    }
    if ($sealModulus.Length -ne 256) {
        $module.FailJson('seal_to is not an RSA 2048 modulus (256 bytes); this option is set by the imds.azure action plugins.')
    }
}
$watch = [System.Diagnostics.Stopwatch]::StartNew()

try {
    $target = Resolve-Target -Name $params.address
}
catch {
    Set-FailureError -Kind 'connect_failed' -Failure $_.Exception
    $module.ExitJson()
}

$client = New-Object -TypeName System.Net.Sockets.TcpClient -ArgumentList $target.AddressFamily
try {
    $connected = $false
    try {
        $pending = $client.BeginConnect($target, $params.port, $null, $null)
        if ($pending.AsyncWaitHandle.WaitOne($connectMilliseconds)) {
            $client.EndConnect($pending)
            $connected = $true
        }
        else {
            Set-AttemptError -Kind 'connect_timeout' -Code 'TimedOut' -Message 'no connection within the connect timeout'
        }
    }
    catch {
        Set-FailureError -Kind 'connect_failed' -Failure $_.Exception
    }
    if ($connected) {
        try {
            Invoke-Exchange -Client $client -RequestBytes $requestBytes -ReadMilliseconds $readMilliseconds -MaxBytes $params.max_bytes
        }
        catch {
            Set-FailureError -Kind 'exchange' -Failure $_.Exception
        }
    }
}
finally {
    $client.Close()
}

$module.Result.elapsed = $watch.Elapsed.TotalSeconds
$module.ExitJson()
