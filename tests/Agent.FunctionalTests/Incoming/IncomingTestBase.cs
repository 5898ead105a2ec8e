using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using ClusterContext.Testing;

namespace ClusterContext.Agent.FunctionalTests.Incoming;

/// <summary>Each test gets an agent of its own in the shared pod sandbox, so listeners and subscriptions never cross tests.</summary>
public abstract partial class IncomingTestBase(SandboxAgentFixture fixture) : IAsyncLifetime
{
    private static int s_nextAgentPort = 7800;
    private static int s_nextPodPort = 18080;

    protected SandboxAgentFixture Fixture { get; } = fixture;

    protected AgentProcess Agent { get; private set; } = null!;

    protected IPEndPoint AgentEndPoint { get; private set; } = null!;

    /// <summary>A pod port no other test uses.</summary>
    protected static ushort NewPodPort() => (ushort)Interlocked.Increment(ref s_nextPodPort);

    /// <summary>The connection an answer of the test app came from (its "from=" part).</summary>
    protected static string From(string line) => line[(line.LastIndexOf("from=", StringComparison.Ordinal) + 5)..];

    public async Task InitializeAsync()
    {
        var port = Interlocked.Increment(ref s_nextAgentPort);
        Agent = await Fixture.StartAgentAsync(port, "--token", SandboxAgentFixture.Token);
        AgentEndPoint = new IPEndPoint(Fixture.Sandbox.PodIP, port);
    }

    public async Task DisposeAsync() => await Agent.DisposeAsync();

    /// <summary>The agent's listener for <paramref name="podPort"/>, as its log names it; the redirect in front of it is not part of these tests.</summary>
    protected async Task<IPEndPoint> ListenerAsync(ushort podPort)
    {
        var pattern = new Regex($@"incoming port {podPort}: .* listener port (\d+)", RegexOptions.CultureInvariant);
        await WaitForLogAsync(line => pattern.IsMatch(line));
        var port = Agent.Log.Select(l => pattern.Match(l)).Last(m => m.Success).Groups[1].Value;
        return new IPEndPoint(Fixture.Sandbox.PodIP, int.Parse(port, CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The usual filtered steal on <paramref name="podPort"/>: the pod's "original" app, a session's "local" app, and
    /// alice's session stealing the requests that carry <c>x-dev: alice</c>, with the agent's listener for the port.
    /// </summary>
    private protected async Task<AliceSteal> StealForAliceAsync(ushort podPort)
    {
        var original = await IncomingApp.StartInPodAsync(Fixture.Sandbox, "original", podPort);
        var local = await IncomingApp.StartLocalAsync("local");
        var session = await IncomingSessionDouble.ConnectAsync(AgentEndPoint, "alice", local.Port);
        var notice = (await session.SubscribeAsync(podPort, Protocol.Messages.IncomingMode.Steal, IncomingSessionDouble.Header("^x-dev: alice$"))).Notice;
        return new AliceSteal(original, local, session, await ListenerAsync(podPort), notice);
    }

    /// <summary>What <see cref="StealForAliceAsync"/> set up; disposing it ends the session, then both apps.</summary>
    internal sealed record AliceSteal(IncomingApp Original, IncomingApp Local, IncomingSessionDouble Session, IPEndPoint Listener, string Notice) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Session.DisposeAsync();
            await Local.DisposeAsync();
            await Original.DisposeAsync();
        }
    }

    protected async Task WaitForLogAsync(Func<string, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!Agent.Log.Any(condition))
        {
            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"The agent never logged the expected line. Its log:{Environment.NewLine}{string.Join(Environment.NewLine, Agent.Log)}");
            }

            await Task.Delay(20);
        }
    }

    protected static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
