using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Microsoft.Win32.SafeHandles;

namespace ClusterContext.Hooks;

/// <summary>
/// The BCL methods that every public file, DNS and socket API passes through on .NET 10 for Linux, each large enough
/// not to be inlined and taking only parameter types a replacement can declare. The call paths are in
/// docs/patching-choke-points.md and are checked by the choke-point coverage test. Looked up once: the startup hook
/// reserves them first of all and installs the hooks later.
/// </summary>
internal static class BclChokePoints
{
    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;

    public static MethodBase FileOpen { get; } = typeof(SafeFileHandle).GetMethods(Everything).Single(m => m.Name == "Open" && m.GetParameters().Length == 12);

    public static MethodBase FileExists { get; } = Type("System.IO.FileSystem", typeof(File).Assembly).GetMethods(Everything)
        .Single(m => m.Name == "FileExists" && m.GetParameters().Length == 2);

    public static MethodBase DirectoryExists { get; } = Type("System.IO.FileSystem", typeof(File).Assembly).GetMethods(Everything)
        .Single(m => m.Name == "DirectoryExists" && m.GetParameters().Length == 2);

    public static MethodBase FileStatusRefresh { get; } = Type("System.IO.FileStatus", typeof(File).Assembly).GetMethods(Everything)
        .Single(m => m.Name == "RefreshCaches" && m.GetParameters().Length == 2);

    public static MethodBase FileWatch { get; } = Type("Interop+Sys", typeof(FileSystemWatcher).Assembly).GetMethods(Everything)
        .Single(m => m.Name == "INotifyAddWatch");

    /// <summary>Every choke point by a short name.</summary>
    public static IReadOnlyDictionary<string, MethodBase> All => new Dictionary<string, MethodBase>
    {
        ["file-open"] = FileOpen,
        ["file-exists"] = FileExists,
        ["directory-exists"] = DirectoryExists,
        ["file-status"] = FileStatusRefresh,
        ["directory-open"] = OpenDirectory,
        ["file-watch"] = FileWatch,
        ["dns"] = DnsResolve,
        ["dns-async"] = DnsResolveAsync,
        ["connect"] = SocketConnect,
        ["connect-async"] = SocketConnectAsync,
        ["send-to"] = SocketSendTo,
        ["send-to-span"] = SocketSendToSpan,
        ["send-to-async"] = SocketSendToAsync,
        ["receive-from"] = SocketReceiveFrom,
        ["receive-from-list"] = SocketReceiveFromList,
        ["receive-message-from"] = SocketReceiveMessageFrom,
        ["receive-message-from-list"] = SocketReceiveMessageFromList,
        ["bind"] = SocketBind,
        ["listen"] = SocketListen,
    };

    public static MethodBase OpenDirectory { get; } = Type("Interop+Sys", typeof(File).Assembly).GetMethods(Everything)
        .Single(m => m.Name == "OpenDir" && m.GetParameters().Length == 1);

    public static MethodBase DnsResolve { get; } = Type("System.Net.NameResolutionPal", typeof(Dns).Assembly).GetMethods(Everything)
        .Single(m => m.Name == "TryGetAddrInfo");

    public static MethodBase DnsResolveAsync { get; } = typeof(Dns).GetMethods(Everything)
        .Single(m => m.Name == "GetHostEntryOrAddressesCoreAsync" && m.GetParameters()[0].ParameterType == typeof(string));

    public static MethodBase SocketConnect { get; } = typeof(Socket).GetMethods(Everything).Single(m => m.Name == "DoConnect");

    public static MethodBase SocketConnectAsync { get; } = typeof(Socket).GetMethods(Everything)
        .Single(m => m.Name == "ConnectAsync" && m.GetParameters().Length == 4 && m.GetParameters()[0].ParameterType == typeof(SocketAsyncEventArgs));

    public static MethodBase SocketSendTo { get; } = typeof(Socket).GetMethods(Everything)
        .Single(m => m.Name == "SendTo" && m.GetParameters().Length == 5);

    public static MethodBase SocketSendToSpan { get; } = typeof(Socket).GetMethods(Everything)
        .Single(m => m.Name == "SendTo" && m.GetParameters() is [{ ParameterType.Name: "ReadOnlySpan`1" }, { ParameterType.Name: nameof(SocketFlags) }, { ParameterType.Name: nameof(EndPoint) }]);

    public static MethodBase SocketSendToAsync { get; } = typeof(Socket).GetMethods(Everything)
        .Single(m => m.Name == "SendToAsync" && m.GetParameters() is [{ ParameterType.Name: "ReadOnlyMemory`1" }, { ParameterType.Name: nameof(SocketFlags) }, { ParameterType.Name: nameof(EndPoint) }, _]);

    /// <summary>Every receive that reports the sender (ReceiveFrom, its async forms, UdpClient.Receive) reads into a Span or a list of segments here.</summary>
    public static MethodBase SocketReceiveFrom { get; } = SocketPalReceive("SysReceive", "Span`1");

    public static MethodBase SocketReceiveFromList { get; } = SocketPalReceive("SysReceive", "IList`1");

    public static MethodBase SocketReceiveMessageFrom { get; } = SocketPalReceive("SysReceiveMessageFrom", "Span`1");

    public static MethodBase SocketReceiveMessageFromList { get; } = SocketPalReceive("SysReceiveMessageFrom", "IList`1");

    public static MethodBase SocketBind { get; } = typeof(Socket).GetMethods(Everything).Single(m => m.Name == "DoBind");

    public static MethodBase SocketListen { get; } = typeof(Socket).GetMethods(Everything).Single(m => m.Name == "Listen" && m.GetParameters().Length == 1);

    private static MethodInfo SocketPalReceive(string name, string buffers) => Type("System.Net.Sockets.SocketPal", typeof(Socket).Assembly).GetMethods(Everything)
        .Single(m => m.Name == name && m.GetParameters() is [_, _, { ParameterType.Name: var type }, { ParameterType.Name: "Span`1" }, ..] && type == buffers);

    private static Type Type(string name, Assembly assembly) => assembly.GetType(name) ?? throw new InvalidOperationException($"{name} is not in {assembly.GetName().Name}.");
}
