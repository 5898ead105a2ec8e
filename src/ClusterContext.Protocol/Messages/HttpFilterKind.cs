namespace ClusterContext.Protocol.Messages;

/// <summary>The kinds of <see cref="HttpFilter"/>; the values are part of the wire format.</summary>
internal enum HttpFilterKind : byte
{
    /// <summary>A regular expression on each <c>name: value</c> header line.</summary>
    Header = 1,

    /// <summary>A regular expression on the request's path and query.</summary>
    Path = 2,

    /// <summary>A regular expression on the request's method.</summary>
    Method = 3,

    /// <summary>Every one of the filters matches.</summary>
    AllOf = 4,

    /// <summary>At least one of the filters matches.</summary>
    AnyOf = 5,
}
