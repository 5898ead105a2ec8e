using System.Collections.Concurrent;
using System.IO.Pipelines;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;
using ClusterContext.Session;

namespace ClusterContext.Tests.Session.Incoming;

/// <summary>A peer in the agent's place over in-memory pipes: it records what the session asks and answers subscriptions.</summary>
internal sealed class TestAgentPeer : IAsyncDisposable
{
    private TestAgentPeer(AgentClient client, MuxConnection agentSide, ConcurrentQueue<Message> seen)
    {
        Client = client;
        AgentSide = agentSide;
        Seen = seen;
    }

    public AgentClient Client { get; }

    public MuxConnection AgentSide { get; }

    public ConcurrentQueue<Message> Seen { get; }

    public static async Task<TestAgentPeer> StartAsync()
    {
        var seen = new ConcurrentQueue<Message>();
        var toAgent = new Pipe();
        var toSession = new Pipe();
        var accepted = MuxConnection.AcceptAsync(new Duplex(toAgent.Reader, toSession.Writer),
            _ => new WelcomeMessage(ProtocolLimits.Version, "test-agent", "s1", 1, 0), request =>
            {
                seen.Enqueue(request.Message);
                request.Respond(request.Message switch
                {
                    SubscribeRequest => new SubscribeResponse(""),
                    UnsubscribeRequest => new UnsubscribeResponse(),
                    _ => throw new RemoteException(ErrorCode.UnknownRequest, "no"),
                });
                return Task.CompletedTask;
            });
        var client = await AgentClient.ConnectAsync(new Duplex(toSession.Reader, toAgent.Writer), "token");
        return new TestAgentPeer(client, await accepted, seen);
    }

    public async ValueTask DisposeAsync()
    {
        await AgentSide.DisposeAsync();
        await Client.DisposeAsync();
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
