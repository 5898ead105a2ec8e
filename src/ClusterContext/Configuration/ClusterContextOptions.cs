namespace ClusterContext;

/// <summary>
/// What to run in the context of, and how. Read from <c>clustercontext.json</c> (or the file named by
/// <c>CLUSTERCONTEXT_CONFIG</c>) with <c>CLUSTERCONTEXT_*</c> variables overriding single keys; see
/// <c>clustercontext.schema.json</c>.
/// </summary>
public sealed class ClusterContextOptions
{
    /// <summary>The workload to run as: <c>pod/x</c>, <c>deployment/x</c>, <c>statefulset/x</c>, ... with an optional <c>/container/y</c>. Default: none.</summary>
    public string? Target { get; set; }

    /// <summary>Kubernetes namespace. Default: the context's namespace.</summary>
    public string? Namespace { get; set; }

    /// <summary>kubeconfig context. Default: the current context.</summary>
    public string? Context { get; set; }

    /// <summary>How to reach the agent.</summary>
    public AgentSettings Agent { get; set; } = new();

    /// <summary>Which of the pod's environment variables the app gets.</summary>
    public EnvironmentSettings Env { get; set; } = new();

    /// <summary>Which paths are read from the pod.</summary>
    public FileSystemSettings Fs { get; set; } = new();

    /// <summary>DNS and outgoing connections.</summary>
    public NetworkSettings Network { get; set; } = new();

    /// <summary>How processes with the same target share one session (one agent, one port-forward).</summary>
    public SessionSettings Session { get; set; } = new();

    /// <summary>When false, an unreachable cluster is a warning and the app runs locally. Default: true.</summary>
    public bool Required { get; set; } = true;

    /// <summary>How long a remote operation may take before it fails with an <see cref="IOException"/>. Default: 10 seconds.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// The session host: one local process per developer context (kubeconfig, context, namespace, target, agent) that owns
/// the agent and its port-forward; every process of that context joins it over a Unix socket only the user can open.
/// </summary>
public sealed class SessionSettings
{
    /// <summary>
    /// A named session (<c>clusterctx session start NAME</c>) to join instead of the one the target implies, as an IDE
    /// launch profile does. Default: none.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>How long the session host stays after its last process leaves (its agent leaves with it). Default: 30 seconds.</summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>false: this process starts an agent of its own, as if it were the only one. Default: true (on Linux and macOS).</summary>
    public bool Shared { get; set; } = true;
}

/// <summary>The agent to use.</summary>
public sealed class AgentSettings
{
    /// <summary><c>host:port</c> of a running agent to connect to directly. Default: none (the agent is started in the target pod).</summary>
    public string? Address { get; set; }

    /// <summary>The agent's session token. Default: none.</summary>
    public string? Token { get; set; }

    /// <summary>The image of the agent container started in the target pod.</summary>
    public string Image { get; set; } = DefaultImage;

    /// <summary>
    /// The port the started agent listens on in the pod's network namespace. Default <see langword="null"/>: a random
    /// free-looking port from 40000–59999 per session (so sessions to one pod never collide; a port found taken is
    /// replaced by another).
    /// </summary>
    public int? Port { get; set; }

    /// <summary>
    /// How long the agent container may take to start, from being added to the pod to running. Default 60 seconds:
    /// a node pulling the agent image for the first time takes longer than a remote operation's <c>timeout</c>.
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The published agent image of this version.</summary>
    public static string DefaultImage { get; } = "clustercontext/agent:" + (typeof(AgentSettings).Assembly.GetName().Version?.ToString(3) ?? "latest");
}

/// <summary>Environment variables taken from the pod.</summary>
public sealed class EnvironmentSettings
{
    /// <summary>Glob patterns of the pod's variables to take. Default: all (<c>*</c>).</summary>
    public IList<string> Include { get; set; } = ["*"];

    /// <summary>Glob patterns of variables to leave as they are locally. Default: those that describe the machine, not the app (PATH, HOME, HOSTNAME, ...).</summary>
    public IList<string> Exclude { get; set; } = ["PATH", "HOME", "HOSTNAME", "PWD", "SHELL", "USER", "TERM", "TMPDIR", "LANG", "LC_*", "DOTNET_*", "CLUSTERCONTEXT_*"];

    /// <summary>Values set regardless of the pod. Default: none.</summary>
    public IDictionary<string, string> Override { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Variables removed. Default: none.</summary>
    public IList<string> Unset { get; set; } = [];

    /// <summary>A file to write the resulting variables to (KEY=value lines), for tools outside the process. Default: none.</summary>
    public string? EnvFile { get; set; }
}

/// <summary>How file paths are served.</summary>
public sealed class FileSystemSettings
{
    /// <summary><c>local</c>, <c>localWithOverrides</c>, <c>read</c> or <c>write</c>. Default: <c>read</c>.</summary>
    public FileSystemMode Mode { get; set; } = FileSystemMode.Read;

    /// <summary>Regular expressions of paths read from the pod; writes go to a local copy.</summary>
    public IList<string> ReadOnly { get; set; } = [];

    /// <summary>Regular expressions of paths read from and written to the pod.</summary>
    public IList<string> ReadWrite { get; set; } = [];

    /// <summary>Regular expressions of paths that stay local.</summary>
    public IList<string> Local { get; set; } = [];

    /// <summary>Regular expressions of paths that behave as missing.</summary>
    public IList<string> NotFound { get; set; } = [];
}

/// <summary>File system modes, as mirrord users know them.</summary>
public enum FileSystemMode
{
    /// <summary>Everything local.</summary>
    Local,

    /// <summary>Local, except the paths the lists name.</summary>
    LocalWithOverrides,

    /// <summary>The pod's volumes and the lists' paths are read from the pod; writes stay local.</summary>
    Read,

    /// <summary>As <see cref="Read"/>, and writes reach the pod.</summary>
    Write,
}

/// <summary>DNS and outgoing traffic.</summary>
public sealed class NetworkSettings
{
    /// <summary>Resolve names the way the pod does. Default: true.</summary>
    public bool Dns { get; set; } = true;

    /// <summary>Outgoing connections.</summary>
    public OutgoingSettings Outgoing { get; set; } = new();

    /// <summary>The pod's incoming traffic (see docs/incoming.md).</summary>
    public IncomingSettings Incoming { get; set; } = new();
}

/// <summary>Which outgoing connections go through the pod.</summary>
public sealed class OutgoingSettings
{
    /// <summary>Tunnel TCP connections through the pod. Default: true.</summary>
    public bool Tcp { get; set; } = true;

    /// <summary>Tunnel UDP datagrams through the pod. Default: true.</summary>
    public bool Udp { get; set; } = true;

    /// <summary>
    /// Where a destination no filter names goes. Default <see cref="OutgoingDefault.Remote"/>: every non-loopback
    /// destination through the pod, except the API server and proxy the session itself uses (and the agent's address).
    /// </summary>
    public OutgoingDefault Default { get; set; } = OutgoingDefault.Remote;

    /// <summary>
    /// Filters (<c>[tcp|udp://]name|addr|cidr[:port]</c>) of destinations reached through the pod; with
    /// <see cref="Default"/> <see cref="OutgoingDefault.Local"/> the allow list (with the addresses the pod's resolver gave).
    /// Default: none.
    /// </summary>
    public IList<string> Remote { get; set; } = [];

    /// <summary>Filters of destinations reached locally; they win over <see cref="Remote"/>. Default: none.</summary>
    public IList<string> Local { get; set; } = [];
}

/// <summary>Where outgoing traffic that no filter names goes.</summary>
public enum OutgoingDefault
{
    /// <summary>Through the pod, as an app in the pod would connect.</summary>
    Remote,

    /// <summary>From this machine, except the <c>remote</c> filters' destinations and the addresses of names resolved in the pod.</summary>
    Local,
}
