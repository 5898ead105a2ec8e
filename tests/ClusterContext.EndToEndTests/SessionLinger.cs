using System.Runtime.CompilerServices;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// The apps these tests start leave no session host behind them: a host (and its agent) goes as soon as its last
/// process does, as each test expects of the cluster once its app has ended. <see cref="SessionHostTests"/> gives its
/// apps a linger of their own to test the sharing.
/// </summary>
internal static class SessionLinger
{
    [ModuleInitializer]
    internal static void NoLinger() => Environment.SetEnvironmentVariable("CLUSTERCONTEXT_SESSION_LINGER", "0");
}
