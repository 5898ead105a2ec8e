using System.IO.Pipelines;

namespace ClusterContext.Protocol.Tests.Infrastructure;

/// <summary>Two in-memory pipe ends wired to each other, like a socket pair.</summary>
public sealed class DuplexPipePair
{
    public DuplexPipePair(PipeOptions? options = null)
    {
        var toServer = new Pipe(options ?? PipeOptions.Default);
        var toClient = new Pipe(options ?? PipeOptions.Default);
        Client = new End(toClient.Reader, toServer.Writer);
        Server = new End(toServer.Reader, toClient.Writer);
    }

    public IDuplexPipe Client { get; }

    public IDuplexPipe Server { get; }

    private sealed class End(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
