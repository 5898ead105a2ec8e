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

    /// <summary>
    /// Processor time of the relay, in clock ticks, with that of the processes it forked for connections that have ended
    /// (waited for: socat reaps each as its connection closes).
    /// </summary>
    public long Ticks()
    {
        var children = $"/proc/{_process.Id}/task/{_process.Id}/children";
        var wait = Stopwatch.StartNew();
        while (File.ReadAllText(children).Trim().Length > 0)
        {
            if (wait.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"socat's connection processes did not end: {File.ReadAllText(children)}");
            }

            Thread.Yield();
        }

        return ProcessCpu.Ticks(_process.Id, reapedChildren: true);
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
