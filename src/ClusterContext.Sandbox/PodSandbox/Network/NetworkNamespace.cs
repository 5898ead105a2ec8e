using System.ComponentModel;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ClusterContext.Testing.Sandbox.Network;

/// <summary>Creates sockets that live in another network namespace while the rest of the process stays on the host.</summary>
internal static class NetworkNamespace
{
    /// <summary>
    /// A socket belongs to the namespace of the thread that created it, for its whole life. So a short-lived thread
    /// enters the namespace, creates the socket and ends; no pooled thread ever runs in the wrong namespace.
    /// </summary>
    public static Socket CreateSocket(string namespacePath, AddressFamily addressFamily, SocketType socketType, ProtocolType protocolType)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(namespacePath);
                if (Libc.SetNs((int)handle.DangerousGetHandle(), Libc.CloneNewNet) != 0)
                {
                    throw new Win32Exception(Marshal.GetLastPInvokeError(), $"setns({namespacePath}) failed");
                }

                socket = new Socket(addressFamily, socketType, protocolType);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or Win32Exception or SocketException)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = "PodSandbox setns",
        };
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"Could not create a socket in {namespacePath}.", failure);
    }
}
