using System.Buffers;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Framing;
using ClusterContext.Protocol.Messages;
using ClusterContext.Protocol.Multiplexing;

namespace ClusterContext.Agent.Files;

/// <summary>Serves <see cref="OpenReadRequest"/>: answers with the file's stat, then streams the requested range.</summary>
internal static class FileReadPump
{
    public static async Task RunAsync(IncomingRequest request, OpenReadRequest open, ContainerFileSystem files)
    {
        if (open.Offset < 0)
        {
            throw new RemoteException(ErrorCode.InvalidArgument, $"Offset {open.Offset} is negative.");
        }

        var (handle, stat) = files.OpenRead(open.Path);
        using (handle)
        {
            var stream = request.CreateStream();
            request.Respond(new OpenReadResponse(stat));
            var buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimits.MaxDataChunk);
            try
            {
                var position = open.Offset;
                var remaining = open.Length < 0 ? long.MaxValue : open.Length;
                while (remaining > 0)
                {
                    var read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), position, request.CancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    await stream.WriteAsync(buffer.AsMemory(0, read), request.CancellationToken).ConfigureAwait(false);
                    position += read;
                    remaining -= read;
                }

                stream.CompleteWrites();
            }
            catch (IOException ex) when (ex is not (RemoteException or SessionLostException))
            {
                // The client must see a failed read, never a file that silently ends early.
                stream.Reset(ErrorCode.IOError, $"Reading {open.Path} failed: {ex.Message}");
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
