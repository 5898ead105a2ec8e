using System.Collections;
using ClusterContext.Configuration;
using ClusterContext.Session.Host;

namespace ClusterContext.Tests.Session.Host;

/// <summary>Which session host a process joins: one per developer context, or the one named.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SessionHostPathsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("clustercontext-paths-").FullName;

    [Theory]
    [InlineData("", 0xcbf29ce484222325UL)]
    [InlineData("a", 0xaf63dc4c8601ec8cUL)]
    [InlineData("foobar", 0x85944171f73967e8UL)]
    public void The_name_hash_is_fnv_1a_64(string text, ulong expected) =>
        Assert.Equal(expected, SessionHostPaths.Fnv1a64(System.Text.Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void Processes_of_one_context_name_one_host_and_anything_that_changes_the_agent_names_another()
    {
        var kubeconfig = Path.Combine(_directory, "config");
        File.WriteAllText(kubeconfig, "apiVersion: v1");
        var environment = new Hashtable { ["KUBECONFIG"] = kubeconfig };
        ClusterContextOptions Options(Action<ClusterContextOptions>? change = null)
        {
            var options = new ClusterContextOptions { Target = "deployment/orders" };
            change?.Invoke(options);
            return options;
        }

        var name = SessionHostPaths.Name(Options(), environment);
        Assert.Matches("^ctx-[0-9a-f]{16}$", name);

        // Settings of the process alone (its files, its environment, its timeout) leave it in the same session.
        Assert.Equal(name, SessionHostPaths.Name(Options(o => { o.Fs.Mode = FileSystemMode.Write; o.Env.Exclude = []; o.Timeout = TimeSpan.FromSeconds(3); }), environment));

        // What the agent or the way to it depends on makes another.
        Assert.NotEqual(name, SessionHostPaths.Name(Options(o => o.Target = "deployment/web"), environment));
        Assert.NotEqual(name, SessionHostPaths.Name(Options(o => o.Namespace = "other"), environment));
        Assert.NotEqual(name, SessionHostPaths.Name(Options(o => o.Context = "prod"), environment));
        Assert.NotEqual(name, SessionHostPaths.Name(Options(o => o.Agent.Image = "registry.local/agent:dev"), environment));
        Assert.NotEqual(name, SessionHostPaths.Name(Options(o => o.Network.Incoming.Mode = IncomingTrafficMode.Steal), environment));

        // A kubeconfig changed since (another current context, say) is another developer context.
        File.SetLastWriteTimeUtc(kubeconfig, DateTime.UtcNow.AddMinutes(1));
        Assert.NotEqual(name, SessionHostPaths.Name(Options(), environment));
    }

    [Fact]
    public void A_named_session_is_joined_by_its_name_and_a_name_that_is_no_file_name_is_refused()
    {
        var environment = new Hashtable();
        Assert.Equal("orders-debug", SessionHostPaths.Name(new ClusterContextOptions { Session = { Name = "orders-debug" } }, environment));
        var error = Assert.Throws<ConfigurationException>(() => SessionHostPaths.Name(new ClusterContextOptions { Session = { Name = "../x" } }, environment));
        Assert.Contains("session.name '../x'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_sockets_live_in_the_users_runtime_folder_made_0700()
    {
        var folder = SessionHostPaths.Folder(new Hashtable { ["XDG_RUNTIME_DIR"] = _directory });
        Assert.Equal(Path.Combine(_directory, "clustercontext"), folder);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        var files = SessionHostPaths.For(folder, "orders-debug");
        Assert.Equal(Path.Combine(folder, "orders-debug.sock"), files.Socket);
        Assert.Equal(Path.Combine(folder, "orders-debug.lock"), files.Lock);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
