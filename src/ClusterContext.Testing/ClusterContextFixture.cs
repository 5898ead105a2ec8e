using ClusterContext.Testing.Internal;
using Xunit;

namespace ClusterContext.Testing;

/// <summary>
/// Runs the test process in the context of a Kubernetes pod for the tests that use it (as an
/// <c>IClassFixture</c>, <c>ICollectionFixture</c> or assembly fixture): the session starts before the first of them
/// and ends after the last, leaving nothing in the cluster. Options come from <c>clustercontext.json</c> and
/// <c>CLUSTERCONTEXT_*</c> variables, as the startup hook reads them, then from <see cref="Configure"/> (or the
/// constructor's callback).
/// </summary>
/// <remarks>
/// The session is one per process: fixtures alive at the same time share it (the first one's options win) and the
/// last one disposed ends it. A session the process already had (the startup hook's) is joined and left running.
/// A cluster that cannot be reached within the options' timeouts fails the fixture's tests with the session's
/// message; with <c>required: false</c> the tests are skipped with that message instead, as soon as they touch
/// <see cref="Session"/>, <see cref="Environment"/> or <c>WithClusterContext</c>, or call <see cref="SkipIfLocal"/>.
/// </remarks>
public class ClusterContextFixture : IAsyncLifetime
{
    private readonly Action<ClusterContextOptions>? _configure;
    private readonly FixtureLog _log = new();
    private ClusterContextSession? _session;
    private string? _localReason;

    /// <summary>Options from <c>clustercontext.json</c> and <c>CLUSTERCONTEXT_*</c> variables.</summary>
    public ClusterContextFixture()
    {
    }

    /// <summary>Options from <c>clustercontext.json</c> and <c>CLUSTERCONTEXT_*</c> variables, then <paramref name="configure"/>.</summary>
    protected ClusterContextFixture(Action<ClusterContextOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _configure = configure;
    }

    /// <summary>The running session; skips the calling test when the cluster was unreachable and not required.</summary>
    public ClusterContextSession Session
    {
        get
        {
            SkipIfLocal();
            return _session ?? throw new InvalidOperationException("The ClusterContext session has not started: the fixture was not initialized.");
        }
    }

    /// <summary>Whether the tests run in the pod's context (false when the cluster was unreachable and not required).</summary>
    public bool IsConnected => _session?.IsConnected == true;

    /// <summary>The variables taken from the pod; skips the calling test when the run is local.</summary>
    public IReadOnlyDictionary<string, string> Environment => Session.ImportedEnvironment;

    /// <summary>Why the tests run locally (<c>required: false</c> and an unreachable cluster); null when connected.</summary>
    public string? LocalReason => _localReason;

    /// <summary>What the session reported while it started (progress, warnings), oldest first.</summary>
    public IReadOnlyList<string> Log => _log.Lines;

    /// <summary>Skips the calling test with the reason when the cluster was unreachable and not required.</summary>
    public void SkipIfLocal()
    {
        if (_localReason is { } reason)
        {
            throw new LocalRunSkipException($"ClusterContext runs locally: {reason}");
        }
    }

    /// <summary>Adjusts the options read from <c>clustercontext.json</c> and <c>CLUSTERCONTEXT_*</c> before the session starts.</summary>
    protected virtual void Configure(ClusterContextOptions options)
    {
    }

    /// <inheritdoc/>
    public async ValueTask InitializeAsync()
    {
        var options = ClusterContextSession.LoadOptions();
        _configure?.Invoke(options);
        Configure(options);
        (_session, _localReason) = await SharedSession.AcquireAsync(options, _log).ConfigureAwait(false);
        if (_session is { IsConnected: false })
        {
            _localReason = _log.LocalReason ?? "the cluster could not be reached (required is false).";
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_session is not null)
        {
            await SharedSession.ReleaseAsync(_session).ConfigureAwait(false);
            _session = null;
        }

        GC.SuppressFinalize(this);
    }
}
