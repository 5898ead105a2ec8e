using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ClusterContext.Benchmarks.Throughput;

/// <summary>socat relaying a loopback port to the echo server: the cost of relaying alone, without a protocol.</summary>
internal sealed class PlainRelay : IDisposable
{
    private readonly Process _process;

    private PlainRelay(Process process, IPEndPoint endPoint)
    {
        _process = process;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public static PlainRelay? TryStart(IPEndPoint target)
    {
        var port = FreePort();
        Process? process;
        try
        {
            process = Process.Start(new ProcessStartInfo("socat", ["-b", "262144", $"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", $"TCP:{target}"]));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.WriteLine("(socat is not installed: no plain-relay comparison; apt-get install socat)");
            return null;
        }

        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        for (var i = 0; i < 50; i++)
        {
            using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                probe.Connect(endPoint);
                return new PlainRelay(process!, endPoint);
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        process!.Kill();
        return null;
    }

    public void Dispose()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
