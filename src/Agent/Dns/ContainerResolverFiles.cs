using System.Text;
using ClusterContext.Agent.Files;

namespace ClusterContext.Agent.Dns;

/// <summary>The container's own resolver files, read through its root on every use so that edits in the pod apply at once.</summary>
internal sealed class ContainerResolverFiles(ContainerFileSystem files)
{
    private const int MaxFileBytes = 1024 * 1024;

    public ResolverConfig ReadConfig() => ResolverConfig.Parse(Read("/etc/resolv.conf"));

    public HostsFile ReadHosts() => HostsFile.Parse(Read("/etc/hosts"), Read("/etc/host.conf"));

    private string Read(string path) =>
        files.TryReadSmallFile(path, MaxFileBytes) is { } bytes ? Encoding.UTF8.GetString(bytes) : string.Empty;
}
