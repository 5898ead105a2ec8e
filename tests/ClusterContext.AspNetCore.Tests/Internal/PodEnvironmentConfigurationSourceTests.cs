using ClusterContext.AspNetCore.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace ClusterContext.AspNetCore.Tests.Internal;

/// <summary>
/// The pod's variables among a real host's configuration sources: over appsettings.json and the machine's own
/// variables, under the command line, with <c>__</c> as the section separator, as the environment provider reads them.
/// </summary>
public sealed class PodEnvironmentConfigurationSourceTests
{
    [Fact]
    public void The_pods_variables_win_over_appsettings_and_local_variables_and_lose_to_the_command_line()
    {
        var root = Directory.CreateTempSubdirectory("clustercontext-hosting-").FullName;
        var local = $"CCTEST_{Guid.NewGuid():N}";
        try
        {
            File.WriteAllText(Path.Combine(root, "appsettings.json"), $$"""{ "{{local}}": "appsettings", "Only": "appsettings", "Db": { "Host": "appsettings" } }""");
            Environment.SetEnvironmentVariable(local, "local");
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = root, Args = ["--Cli=cli"] });
            PodEnvironmentConfigurationSource.Insert(builder.Configuration, new Dictionary<string, string>
            {
                [local] = "pod",
                ["Cli"] = "pod",
                ["Db__Host"] = "redis.shop",
            });

            var configuration = builder.Configuration;
            Assert.Equal("pod", configuration[local]);
            Assert.Equal("cli", configuration["Cli"]);
            Assert.Equal("redis.shop", configuration["Db:Host"]);
            Assert.Equal("appsettings", configuration["Only"]);
            var sources = ((IConfigurationBuilder)configuration).Sources;
            Assert.IsType<Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationSource>(sources[^1]);
            Assert.IsType<PodEnvironmentConfigurationSource>(sources[^2]);
        }
        finally
        {
            Environment.SetEnvironmentVariable(local, null);
            Directory.Delete(root, recursive: true);
        }
    }
}
