using ClusterContext.Hosting;

namespace ClusterContext.Tests.Hosting;

public class ToolingProcessTests
{
    [Theory]
    [InlineData("/usr/share/dotnet/sdk/10.0.401/dotnet.dll", true)]
    [InlineData("/usr/share/dotnet/sdk/10.0.401/MSBuild.dll", true)]
    [InlineData("/usr/share/dotnet/sdk/10.0.401/Roslyn/bincore/VBCSCompiler.dll", true)]
    [InlineData("/usr/share/dotnet/sdk/10.0.401/DotnetTools/dotnet-watch/10.0.401-servicing/tools/net10.0/any/dotnet-watch.dll", true)]
    [InlineData("/usr/share/dotnet/sdk/10.0.401/vstest.console.dll", true)]
    [InlineData("/opt/other-sdk/dotnet-watch.dll", true)]
    [InlineData("/home/dev/.dotnet/tools/.store/clustercontext.cli/0.1.0/clustercontext.cli/0.1.0/tools/net10.0/any/clusterctx.dll", true)]
    [InlineData("/home/dev/orders/bin/Debug/net10.0/Orders.dll", false)]
    [InlineData("/home/dev/orders/tests/bin/Debug/net10.0/testhost.dll", false)]
    [InlineData("/usr/share/dotnet/sdkfoo/app.dll", false)]
    public void The_sdks_own_processes_are_told_apart_from_apps_and_test_hosts(string entryAssembly, bool tooling) =>
        Assert.Equal(tooling, ToolingProcess.Is(entryAssembly, "/usr/share/dotnet"));
}
