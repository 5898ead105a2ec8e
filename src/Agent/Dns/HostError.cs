namespace ClusterContext.Agent.Dns;

/// <summary>glibc's <c>h_errno</c> for a name that did not resolve: what the search list does next depends on it.</summary>
internal enum HostError
{
    /// <summary>NXDOMAIN: the search goes on.</summary>
    HostNotFound,

    /// <summary>The name exists without addresses (NOERROR, no answers): the search goes on.</summary>
    NoData,

    /// <summary>No server gave a usable answer (timeouts, SERVFAIL, REFUSED from all); the search goes on only after SERVFAIL.</summary>
    TryAgain,

    /// <summary>REFUSED, NOTIMP, FORMERR or another code in a kept response, or a name that cannot be sent: the search ends.</summary>
    NoRecovery,
}
