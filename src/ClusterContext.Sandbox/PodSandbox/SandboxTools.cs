namespace ClusterContext.Testing.Sandbox;

/// <summary>Absolute paths of the host programs a sandbox runs.</summary>
internal sealed record SandboxTools(
    string Ip,
    string Nsenter,
    string Unshare,
    string Mount,
    string Chroot,
    string Env,
    string Shell,
    string Setsid,
    string Dnsmasq,
    string RedisServer);
