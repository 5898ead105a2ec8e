namespace ClusterContext;

/// <summary>The pod's incoming traffic: which ports the app receives, stolen or mirrored, and which HTTP requests.</summary>
public sealed class IncomingSettings
{
    /// <summary>Off, a copy (<see cref="IncomingTrafficMode.Mirror"/>) or the traffic itself (<see cref="IncomingTrafficMode.Steal"/>). Default: off.</summary>
    public IncomingTrafficMode Mode { get; set; } = IncomingTrafficMode.Off;

    /// <summary>The pod ports to subscribe. Default: empty, meaning every port the app listens on (after <see cref="PortMapping"/>).</summary>
    public IList<int> Ports { get; set; } = [];

    /// <summary>Local port the app listens on → pod port. Default: none (see docs/incoming.md for the automatic mapping).</summary>
    public IDictionary<int, int> PortMapping { get; set; } = new Dictionary<int, int>();

    /// <summary>Pod ports never subscribed, even when the app listens on them. Default: none.</summary>
    public IList<int> IgnorePorts { get; set; } = [];

    /// <summary>Only the HTTP requests this filter matches are taken. Default <see langword="null"/>: the whole port.</summary>
    public HttpFilterSettings? HttpFilter { get; set; }
}

/// <summary>What happens to the pod's incoming traffic.</summary>
public enum IncomingTrafficMode
{
    /// <summary>The pod's app keeps all of it; nothing is subscribed.</summary>
    Off,

    /// <summary>The pod's app still answers; the local app gets a copy and its answers are dropped.</summary>
    Mirror,

    /// <summary>The local app serves the matched traffic instead of the pod's app.</summary>
    Steal,
}

/// <summary>
/// An HTTP request filter: every condition set here must hold (regular expressions, .NET syntax): <see cref="Header"/>
/// on some <c>name: value</c> line, <see cref="Path"/> on the path and query, <see cref="Method"/> on the method, every
/// filter of <see cref="AllOf"/> and at least one of <see cref="AnyOf"/>.
/// </summary>
public sealed class HttpFilterSettings
{
    /// <summary>A regular expression matched against each <c>name: value</c> header line. Default: none.</summary>
    public string? Header { get; set; }

    /// <summary>A regular expression matched against the path and query. Default: none.</summary>
    public string? Path { get; set; }

    /// <summary>A regular expression matched against the method. Default: none.</summary>
    public string? Method { get; set; }

    /// <summary>Filters that must all match. Default: none.</summary>
    public IList<HttpFilterSettings> AllOf { get; set; } = [];

    /// <summary>Filters of which one must match. Default: none.</summary>
    public IList<HttpFilterSettings> AnyOf { get; set; } = [];
}
