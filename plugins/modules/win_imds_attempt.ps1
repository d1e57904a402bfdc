#!powershell

# Copyright (c) imds.azure contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

# One HTTP exchange with IMDS from a Windows host, over a plain TCP socket.
# The controller builds the request bytes and reads the answer; this script only
# connects, sends and receives. A socket has no proxy, follows no redirect and adds
# no header, so the rules the controller keeps cannot be bent by the Windows HTTP
# stack. Failures are reported by SocketError name, which Windows never translates,
# unlike exception messages. Windows PowerShell 5.1 syntax and .NET Framework 4.5 APIs.

$spec = @{
    options = @{
        address = @{ type = 'str'; required = $true }
        port = @{ type = 'int'; default = 80 }
        request = @{ type = 'str'; required = $true }
        connect_timeout = @{ type = 'float'; required = $true }
        read_timeout = @{ type = 'float'; required = $true }
        max_bytes = @{ type = 'int'; required = $true }
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

Function Get-SocketErrorName {
    <# The SocketError name of an exception or of one it wraps, else its type name. #>
    param([System.Exception]$Failure)
    $current = $Failure
    while ($null -ne $current) {
        if ($current -is [System.Net.Sockets.SocketException]) {
            return $current.SocketErrorCode.ToString()
        }
        $current = $current.InnerException
    }
    return $Failure.GetType().FullName
}

Function Set-AttemptError {
    param([string]$Kind, [string]$Code, [string]$Message)
    $module.Result.error = @{ kind = $Kind; code = $Code; message = $Message }
}

Function Resolve-Target {
    <# The address to connect to: a literal as given, else the first IPv4 address of the name. #>
    param([string]$Name)
    $literal = $null
    if ([System.Net.IPAddress]::TryParse($Name, [ref]$literal)) {
        return $literal
    }
    $found = [System.Net.Dns]::GetHostAddresses($Name)
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
        $module.Result.received = [int]$answer.Length
        $module.Result.response = [System.Convert]::ToBase64String($answer.ToArray())
    }
    finally {
        $answer.Dispose()
    }
}

$params = $module.Params
$connectMilliseconds = [int][Math]::Ceiling($params.connect_timeout * 1000)
$readMilliseconds = [int][Math]::Ceiling($params.read_timeout * 1000)
$requestBytes = [System.Convert]::FromBase64String($params.request)
$watch = [System.Diagnostics.Stopwatch]::StartNew()

try {
    $target = Resolve-Target -Name $params.address
}
catch {
    Set-AttemptError -Kind 'connect_failed' -Code (Get-SocketErrorName -Failure $_.Exception) -Message $_.Exception.Message
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
        Set-AttemptError -Kind 'connect_failed' -Code (Get-SocketErrorName -Failure $_.Exception) -Message $_.Exception.Message
    }
    if ($connected) {
        try {
            Invoke-Exchange -Client $client -RequestBytes $requestBytes -ReadMilliseconds $readMilliseconds -MaxBytes $params.max_bytes
        }
        catch {
            $code = Get-SocketErrorName -Failure $_.Exception
            $kind = 'connection_failed'
            if ($code -eq 'TimedOut') {
                $kind = 'read_timeout'
            }
            Set-AttemptError -Kind $kind -Code $code -Message $_.Exception.Message
        }
    }
}
finally {
    $client.Close()
}

$module.Result.elapsed = $watch.Elapsed.TotalSeconds
$module.ExitJson()
