namespace ClusterContext.Agent.Dns;

/// <summary>
/// How looking up one candidate name ended. When every candidate fails, the highest value is reported: a name
/// with records of another type is more telling than one that does not exist, and any failure to get an answer
/// outranks both, since the name may exist where the servers failed (glibc prefers "no data" to SERVFAIL here).
/// </summary>
internal enum LookupStatus
{
    Found,

    /// <summary>NXDOMAIN: the name does not exist, whatever the type.</summary>
    NameError,

    /// <summary>The name exists but has no records of the wanted type (NOERROR without answers).</summary>
    NoData,

    /// <summary>SERVFAIL from every server; glibc goes on with the next search domain.</summary>
    ServerFailure,

    /// <summary>REFUSED, NOTIMP, FORMERR or another code from every server; glibc stops searching.</summary>
    Refused,

    /// <summary>No server answered: timeouts, unreachable servers, malformed responses; glibc stops searching.</summary>
    Unreachable,
}
