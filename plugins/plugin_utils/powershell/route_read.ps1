# imds.azure.route: read what the plan needs, changing nothing - the IPv4 routes of both policy
# stores with RouteMetric and InterfaceMetric apart, the IPv4 addresses (to choose the source
# address), and whether this node is a failover-cluster member.
# Windows PowerShell 5.1; cmdlets of Windows Server 2016 and later (NetTCPIP, FailoverClusters
# where installed). Run by ansible.windows.win_powershell, which returns enums as {String, Value}.
$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$routeProperties = @('DestinationPrefix', 'NextHop', 'InterfaceIndex', 'InterfaceAlias', 'RouteMetric', 'InterfaceMetric')
$addressProperties = @('InterfaceIndex', 'InterfaceAlias', 'IPAddress', 'PrefixLength', 'PrefixOrigin', 'AddressState', 'SkipAsSource')

$active = @(Get-NetRoute -AddressFamily IPv4 -PolicyStore ActiveStore | Select-Object -Property $routeProperties)
# An empty persistent store is reported as "No matching MSFT_NetRoute objects": that is no route.
$persistent = @(Get-NetRoute -AddressFamily IPv4 -PolicyStore PersistentStore -ErrorAction SilentlyContinue | Select-Object -Property $routeProperties)
$addresses = @(Get-NetIPAddress -AddressFamily IPv4 -PolicyStore ActiveStore | Select-Object -Property $addressProperties)

# Membership, not installation: the cluster service exists (stopped) wherever the feature is
# installed, so ask the cluster for this node, and look whether the service runs.
$clusterNode = @()
if (Get-Command -Name Get-ClusterNode -ErrorAction SilentlyContinue) {
    $clusterNode = @(Get-ClusterNode -Name $env:COMPUTERNAME -ErrorAction SilentlyContinue | Select-Object -Property 'Name', 'State')
}
$clusterService = @(Get-Service -Name ClusSvc -ErrorAction SilentlyContinue | Select-Object -Property 'Name', 'Status')

$Ansible.Result = @{
    active = $active
    persistent = $persistent
    addresses = $addresses
    cluster_node = $clusterNode
    cluster_service = $clusterService
}
