namespace ClusterContext.Testing.Internal;

/// <summary>
/// Reports the test as skipped: xunit v3 treats an exception whose message starts with its dynamic skip token as a
/// skip with the rest of the message as the reason (what <c>Assert.Skip</c> throws; the fixture does not depend on
/// the assertion library).
/// </summary>
internal sealed class LocalRunSkipException(string reason) : Exception(Xunit.v3.DynamicSkipToken.Value + reason);
