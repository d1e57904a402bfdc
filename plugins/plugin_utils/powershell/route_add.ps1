# imds.azure.route: add the route to the Azure Instance Metadata Service in one policy store.
# Windows PowerShell 5.1; New-NetRoute (NetTCPIP, Windows Server 2012 and later). The caller
# decided everything; a route that already exists is an error here, never silently kept.
param(
    [Parameter(Mandatory = $true)][int]$InterfaceIndex,
    [Parameter(Mandatory = $true)][string]$NextHop,
    [Parameter(Mandatory = $true)][int]$RouteMetric,
    [Parameter(Mandatory = $true)][ValidateSet('ActiveStore', 'PersistentStore')][string]$PolicyStore
)
$ErrorActionPreference = 'Stop'

$null = New-NetRoute -DestinationPrefix '169.254.169.254/32' -InterfaceIndex $InterfaceIndex -NextHop $NextHop -RouteMetric $RouteMetric -PolicyStore $PolicyStore
$Ansible.Changed = $true
