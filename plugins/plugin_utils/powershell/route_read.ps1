# imds.azure.route: read what the plan needs, changing nothing - the IPv4 routes of both policy
# stores with RouteMetric and InterfaceMetric apart, the IPv4 addresses (to choose the source
# address), and whether this node is a failover-cluster member.
# Windows PowerShell 5.1; cmdlets of Windows Server 2016 and later (NetTCPIP, FailoverClusters
# where installed). Run by ansible.windows.win_powershell (2.1.0 and later).
# Every value leaves as a string, a number or a boolean cast here, never as the cmdlet's object:
# win_powershell writes an enum as {Type, String, Value} only while its depth lasts and as a bare
# number deeper down (Convert-OutputObject, then ConvertTo-Json), so an enum cast to [string] here
# reads the same at any depth and on every ansible.windows release. The rows sit at depth 0 of the
# default depth 2 (result, list, row), their values at depth -1, where a string or a number passes.
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$routeProperties = @(
    @{ n = 'DestinationPrefix'; e = { [string]$_.DestinationPrefix } },
    @{ n = 'NextHop'; e = { [string]$_.NextHop } },
    @{ n = 'InterfaceIndex'; e = { [int]$_.InterfaceIndex } },
    @{ n = 'InterfaceAlias'; e = { [string]$_.InterfaceAlias } },
    @{ n = 'RouteMetric'; e = { [int]$_.RouteMetric } },
    @{ n = 'InterfaceMetric'; e = { [int]$_.InterfaceMetric } }
)
$addressProperties = @(
    @{ n = 'InterfaceIndex'; e = { [int]$_.InterfaceIndex } },
    @{ n = 'InterfaceAlias'; e = { [string]$_.InterfaceAlias } },
    @{ n = 'IPAddress'; e = { [string]$_.IPAddress } },
    @{ n = 'PrefixLength'; e = { [int]$_.PrefixLength } },
    @{ n = 'PrefixOrigin'; e = { [string]$_.PrefixOrigin } },
    @{ n = 'AddressState'; e = { [string]$_.AddressState } },
    @{ n = 'SkipAsSource'; e = { [bool]$_.SkipAsSource } }
)

$active = @(Get-NetRoute -AddressFamily IPv4 -PolicyStore ActiveStore | Select-Object -Property $routeProperties)
# An empty persistent store is reported as "No matching MSFT_NetRoute objects" (a non-terminating
# error): that is no route.
$persistent = @(Get-NetRoute -AddressFamily IPv4 -PolicyStore PersistentStore -ErrorAction SilentlyContinue | Select-Object -Property $routeProperties)
$addresses = @(Get-NetIPAddress -AddressFamily IPv4 -PolicyStore ActiveStore | Select-Object -Property $addressProperties)

# Membership, not installation: the cluster service exists (stopped) wherever the feature is
# installed, so ask the cluster for this node. Get-ClusterNode is absent without the
# FailoverClusters PowerShell module and may throw a terminating error (the cluster service stopped,
# this node not in the cluster), which -ErrorAction SilentlyContinue would not stop: try/catch, and
# its message goes back for the controller to report. The controller then falls back to ClusSvc running.
$clusterNode = @()
$clusterNodeError = ''
if (Get-Command -Name Get-ClusterNode -ErrorAction SilentlyContinue) {
    try {
        $clusterNode = @(Get-ClusterNode -Name $env:COMPUTERNAME -ErrorAction Stop | Select-Object -Property @(
                @{ n = 'Name'; e = { [string]$_.Name } },
                @{ n = 'State'; e = { [string]$_.State } }
            ))
    }
    catch {
        $clusterNodeError = [string]$_.Exception.Message
    }
}
else {
    $clusterNodeError = 'Get-ClusterNode is not available (no FailoverClusters PowerShell module)'
}
$clusterService = @(Get-Service -Name ClusSvc -ErrorAction SilentlyContinue | Select-Object -Property @(
        @{ n = 'Name'; e = { [string]$_.Name } },
        @{ n = 'Status'; e = { [string]$_.Status } }
    ))

$Ansible.Result = @{
    active = $active
    persistent = $persistent
    addresses = $addresses
    cluster_node = $clusterNode
    cluster_node_error = $clusterNodeError
    cluster_service = $clusterService
}
