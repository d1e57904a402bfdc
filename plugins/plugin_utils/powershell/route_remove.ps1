# imds.azure.route: remove one route to the Azure Instance Metadata Service from one policy store.
# Windows PowerShell 5.1; Get-NetRoute and Remove-NetRoute (NetTCPIP). Reports changed only when
# a route was there to remove.
param(
    [Parameter(Mandatory = $true)][int]$InterfaceIndex,
    [Parameter(Mandatory = $true)][string]$NextHop,
    [Parameter(Mandatory = $true)][ValidateSet('ActiveStore', 'PersistentStore')][string]$PolicyStore
)
$ErrorActionPreference = 'Stop'

$routes = @(Get-NetRoute -DestinationPrefix '169.254.169.254/32' -InterfaceIndex $InterfaceIndex -NextHop $NextHop -PolicyStore $PolicyStore -ErrorAction SilentlyContinue)
$routes | Remove-NetRoute -Confirm:$false
$Ansible.Changed = $routes.Count -gt 0
