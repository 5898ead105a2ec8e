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

    public static MethodBase FileOpen { get; } = Methods(typeof(SafeFileHandle), "Open").Single(m => m.GetParameters().Length == 12);

    public static MethodBase FileExists { get; } = Methods(Type("System.IO.FileSystem", typeof(File).Assembly), "FileExists")
        .Single(m => m.GetParameters().Length == 2);

    public static MethodBase DirectoryExists { get; } = Methods(Type("System.IO.FileSystem", typeof(File).Assembly), "DirectoryExists")
        .Single(m => m.GetParameters().Length == 2);

    public static MethodBase FileStatusRefresh { get; } = Methods(Type("System.IO.FileStatus", typeof(File).Assembly), "RefreshCaches")
        .Single(m => m.GetParameters().Length == 2);

    public static MethodBase FileWatch { get; } = Methods(Type("Interop+Sys", typeof(FileSystemWatcher).Assembly), "INotifyAddWatch")
        .Single();

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

    public static MethodBase OpenDirectory { get; } = Methods(Type("Interop+Sys", typeof(File).Assembly), "OpenDir")
        .Single(m => m.GetParameters().Length == 1);

    public static MethodBase DnsResolve { get; } = Methods(Type("System.Net.NameResolutionPal", typeof(Dns).Assembly), "TryGetAddrInfo")
        .Single();

    public static MethodBase DnsResolveAsync { get; } = Methods(typeof(Dns), "GetHostEntryOrAddressesCoreAsync")
        .Single(m => m.GetParameters()[0].ParameterType == typeof(string));

    public static MethodBase SocketConnect { get; } = Methods(typeof(Socket), "DoConnect").Single();

    public static MethodBase SocketConnectAsync { get; } = Methods(typeof(Socket), "ConnectAsync")
        .Single(m => m.GetParameters().Length == 4 && m.GetParameters()[0].ParameterType == typeof(SocketAsyncEventArgs));

    public static MethodBase SocketSendTo { get; } = Methods(typeof(Socket), "SendTo")
        .Single(m => m.GetParameters().Length == 5);

    public static MethodBase SocketSendToSpan { get; } = Methods(typeof(Socket), "SendTo")
        .Single(m => m.GetParameters() is [{ ParameterType.Name: "ReadOnlySpan`1" }, { ParameterType.Name: nameof(SocketFlags) }, { ParameterType.Name: nameof(EndPoint) }]);

    public static MethodBase SocketSendToAsync { get; } = Methods(typeof(Socket), "SendToAsync")
        .Single(m => m.GetParameters() is [{ ParameterType.Name: "ReadOnlyMemory`1" }, { ParameterType.Name: nameof(SocketFlags) }, { ParameterType.Name: nameof(EndPoint) }, _]);

    /// <summary>Every receive that reports the sender (ReceiveFrom, its async forms, UdpClient.Receive) reads into a Span or a list of segments here.</summary>
    public static MethodBase SocketReceiveFrom { get; } = SocketPalReceive("SysReceive", "Span`1");

    public static MethodBase SocketReceiveFromList { get; } = SocketPalReceive("SysReceive", "IList`1");

    public static MethodBase SocketReceiveMessageFrom { get; } = SocketPalReceive("SysReceiveMessageFrom", "Span`1");

    public static MethodBase SocketReceiveMessageFromList { get; } = SocketPalReceive("SysReceiveMessageFrom", "IList`1");

    public static MethodBase SocketBind { get; } = Methods(typeof(Socket), "DoBind").Single();

    public static MethodBase SocketListen { get; } = Methods(typeof(Socket), "Listen").Single(m => m.GetParameters().Length == 1);

    private static MethodInfo SocketPalReceive(string name, string buffers) => Methods(Type("System.Net.Sockets.SocketPal", typeof(Socket).Assembly), name)
        .Single(m => m.GetParameters() is [_, _, { ParameterType.Name: var type }, { ParameterType.Name: "Span`1" }, ..] && type == buffers);

    /// <summary>
    /// The methods of that name only: asking by name makes the runtime create method objects for those alone, where
    /// GetMethods makes one for every method of the type (hundreds for Socket), before the app's Main.
    /// </summary>
    private static IEnumerable<MethodInfo> Methods(Type type, string name) => type.GetMember(name, MemberTypes.Method, Everything).Cast<MethodInfo>();

    private static Type Type(string name, Assembly assembly) => assembly.GetType(name) ?? throw new InvalidOperationException($"{name} is not in {assembly.GetName().Name}.");
}
