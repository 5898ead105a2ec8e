namespace ClusterContext;

/// <summary>
/// The app's ClusterContext session as <c>UseClusterContext()</c> registered it in DI: which pod the app runs in the
/// context of, and whether the session with it is up.
/// </summary>
public interface IClusterContext
{
    /// <summary>Where the session stands now.</summary>
    ClusterContextState State { get; }

    /// <summary>The configured target (<c>deployment/orders</c>, ...); null when none was set or the session is off.</summary>
    string? Target { get; }

    /// <summary>The namespace of the pod the target resolved to; null when off, running locally, or straight to an agent address.</summary>
    string? PodNamespace { get; }

    /// <summary>The pod the target resolved to; null when off, running locally, or straight to an agent address.</summary>
    string? Pod { get; }

    /// <summary>The container of <see cref="Pod"/> whose context the app runs in; null when <see cref="Pod"/> is.</summary>
    string? Container { get; }

    /// <summary>The pod's environment variables the app got (after the <c>env</c> filters); empty when off or running locally.</summary>
    IReadOnlyDictionary<string, string> ImportedEnvironment { get; }

    /// <summary>Raised when <see cref="State"/> changes (the session lost, or restored), on a background thread.</summary>
    event EventHandler? StateChanged;
}
