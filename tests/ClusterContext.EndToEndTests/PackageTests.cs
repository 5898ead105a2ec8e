using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Xml.Linq;

namespace ClusterContext.EndToEndTests;

/// <summary>
/// The packages as a user gets them: packed into a folder, referenced by version (no project reference) from a fresh
/// app outside this repository, whose run under the startup hook from the package's own files sees the pod.
/// </summary>
[Collection(PodGroup.Name)]
public class PackageTests(PodFixture pod)
{
    // SourceLink's entry in a portable PDB's custom debug information.
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    [Fact]
    public async Task A_fresh_app_referencing_the_package_by_version_runs_in_the_pods_context_under_the_packages_hook()
    {
        var work = Directory.CreateTempSubdirectory("clustercontext-package-").FullName;
        // A version of its own: the global packages folder keeps what it restored once, and this run must use what it packed.
        var version = $"{RepositoryVersion()}-consumer-{Guid.NewGuid().ToString("N")[..8]}";
        string? restoredPackage = null;
        try
        {
            var packages = Path.Combine(work, "packages");
            foreach (var project in new[] { "src/ClusterContext", "src/ClusterContext.AspNetCore", "src/ClusterContext.Testing" })
            {
                var pack = await DotnetAsync(AppRun.RepositoryRoot, "pack", project, "--no-build", "-c", Configuration, "-o", packages,
                    $"-p:PackageVersion={version}", "-nologo", "-v", "q");
                Assert.True(pack.ExitCode == 0, pack.Output);
            }

            AssertLibraryPackage(Path.Combine(packages, $"ClusterContext.{version}"));
            AssertHostingPackage(Path.Combine(packages, $"ClusterContext.AspNetCore.{version}"), version);
            AssertDependentPackage(Path.Combine(packages, $"ClusterContext.Testing.{version}"), "ClusterContext.Testing", version);

            var app = WriteConsumerApp(work, packages, version);
            var build = await DotnetAsync(app, "build", "-nologo", "-v", "q", "--disable-build-servers");
            Assert.True(build.ExitCode == 0, build.Output);
            var property = await DotnetAsync(app, "msbuild", "-nologo", "-getProperty:ClusterContextStartupHook");
            Assert.True(property.ExitCode == 0, property.Output);
            var hook = property.Output.Trim();
            restoredPackage = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(hook)!, "..", ".."));
            Assert.EndsWith(Path.Combine("clustercontext", version, "tools", "hook", "ClusterContext.dll"), hook, StringComparison.Ordinal);
            Assert.True(File.Exists(hook), hook);

            var run = await AppRun.StartAppAsync(Path.Combine(app, "bin", "Debug", "net10.0", "Consumer.dll"), new Dictionary<string, string?>
            {
                ["DOTNET_STARTUP_HOOKS"] = hook,
                ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
                ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
                ["ORDERS_MODE"] = null,
            }, app).CompleteAsync();

            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal("sandbox", run["env:ORDERS_MODE"]);
            Assert.Equal("orders", run["env:SERVICE_NAME"]);
            Assert.Equal(PodFixture.ConfigText, run["read:/etc/config/app.json"]);
            // The library's public API from lib/, beside the hook's own copy: the options as the hook read them.
            Assert.Equal(pod.AgentAddress, run["options:agent.address"]);
            // The schema, a content file, lands beside the app.
            Assert.Equal("True", run["schema"]);

            // A generic-host app with the hosting package's one line and no startup hook: the pod's environment in
            // IConfiguration (over the app's own appsettings.json), the pod's files through the in-process hooks.
            var hosted = WriteHostedConsumerApp(work, version);
            var hostedBuild = await DotnetAsync(hosted, "build", "-nologo", "-v", "q", "--disable-build-servers");
            Assert.True(hostedBuild.ExitCode == 0, hostedBuild.Output);
            // With no hook, the library in the app's folder starts the session host from there: its entry point is beside it.
            foreach (var file in new[] { "ClusterContext.SessionHost.dll", "ClusterContext.SessionHost.runtimeconfig.json", "clusterctx-session-host" })
            {
                Assert.True(File.Exists(Path.Combine(hosted, "bin", "Debug", "net10.0", file)), file);
            }

            var hostedRun = await AppRun.StartAppAsync(Path.Combine(hosted, "bin", "Debug", "net10.0", "HostedConsumer.dll"), new Dictionary<string, string?>
            {
                ["DOTNET_STARTUP_HOOKS"] = null,
                ["DOTNET_ENVIRONMENT"] = "Development",
                ["CLUSTERCONTEXT_AGENT_ADDRESS"] = pod.AgentAddress,
                ["CLUSTERCONTEXT_AGENT_TOKEN"] = PodFixture.Token,
                ["ORDERS_MODE"] = null,
            }, hosted).CompleteAsync();
            Assert.True(hostedRun.ExitCode == 0, hostedRun.Output);
            Assert.Equal("sandbox", hostedRun["config:ORDERS_MODE"]);
            Assert.Equal(PodFixture.ConfigText, hostedRun["read:/etc/config/app.json"]);
        }
        finally
        {
            if (restoredPackage is not null)
            {
                // The global packages folder keeps no version this run made up: the library's and the hosting package's.
                var hostingPackage = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(restoredPackage)!)!, "clustercontext.aspnetcore", version);
                foreach (var folder in new[] { restoredPackage, hostingPackage })
                {
                    if (Directory.Exists(folder))
                    {
                        Directory.Delete(folder, recursive: true);
                    }
                }
            }

            Directory.Delete(work, recursive: true);
        }
    }

    private static void AssertLibraryPackage(string package)
    {
        using (var nupkg = ZipFile.OpenRead(package + ".nupkg"))
        {
            var entries = nupkg.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            Assert.Contains("README.md", entries);
            Assert.Contains("lib/net10.0/ClusterContext.dll", entries);
            Assert.Contains("lib/net10.0/ClusterContext.xml", entries);
            // The protocol travels inside the package: all of it is internal.
            Assert.Contains("lib/net10.0/ClusterContext.Protocol.dll", entries);
            Assert.Contains("contentFiles/any/any/clustercontext.schema.json", entries);
            Assert.Contains("build/ClusterContext.props", entries);
            Assert.Contains("buildTransitive/ClusterContext.props", entries);
            // The hook's folder is complete: every assembly of the hook's build folder, which it loads from beside itself.
            var hookFolder = Directory.GetFiles(Path.GetDirectoryName(AppRun.HookPath)!, "*.dll").Select(Path.GetFileName).Order(StringComparer.Ordinal);
            Assert.Equal(hookFolder, entries.Where(e => e.StartsWith("tools/hook/", StringComparison.Ordinal) && e.EndsWith(".dll", StringComparison.Ordinal)).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            // Compiled ahead of time, so a process JITs little of the hook before Main (the session host's stub apart).
            Assert.All(entries.Where(e => e.StartsWith("tools/hook/", StringComparison.Ordinal) && e.EndsWith(".dll", StringComparison.Ordinal)
                    && !e.EndsWith("/ClusterContext.SessionHost.dll", StringComparison.Ordinal)),
                e => Assert.True(IsReadyToRun(Read(nupkg, e)), $"{e} is IL only, not a ReadyToRun image"));
            // The session host starts from beside the hook: its entry point and runtime configuration.
            Assert.Contains("tools/hook/ClusterContext.SessionHost.dll", entries);
            Assert.Contains("tools/hook/ClusterContext.SessionHost.runtimeconfig.json", entries);
            // And the native shim, for the programs a hooked app starts: an x86-64 ELF shared object.
            var shim = Read(nupkg, "tools/hook/libclusterctx.so");
            Assert.True(shim.AsSpan().StartsWith((byte[])[0x7F, (byte)'E', (byte)'L', (byte)'F']) && shim[16] == 3 && BitConverter.ToUInt16(shim, 18) == 62,
                "tools/hook/libclusterctx.so is not an x86-64 shared object (ELF type 3, machine 62)");
            Assert.Equal(File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(AppRun.HookPath)!, "libclusterctx.so")), shim);
            // And the session host compiled ahead of time, the build folder's: an x86-64 ELF executable (a position-
            // independent one is of type 3 too), which the hook starts in place of the entry point above.
            var nativeHost = Read(nupkg, "tools/hook/clusterctx-session-host");
            Assert.True(nativeHost.AsSpan().StartsWith((byte[])[0x7F, (byte)'E', (byte)'L', (byte)'F']) && BitConverter.ToUInt16(nativeHost, 18) == 62,
                "tools/hook/clusterctx-session-host is not an x86-64 ELF executable");
            Assert.Equal(File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(AppRun.HookPath)!, "clusterctx-session-host")), nativeHost);
            Assert.Equal(File.ReadAllBytes(Path.Combine(AppRun.RepositoryRoot, "src/ClusterContext/clustercontext.schema.json")),
                Read(nupkg, "contentFiles/any/any/clustercontext.schema.json"));

            var nuspec = Nuspec(nupkg, "ClusterContext.nuspec");
            AssertMetadata(nuspec);
            Assert.DoesNotContain(nuspec.Descendants(Name("dependency")), d => ((string?)d.Attribute("id"))!.StartsWith("ClusterContext", StringComparison.Ordinal));
            Assert.Contains(nuspec.Descendants(Name("files")), f => (string?)f.Attribute("include") == "any/any/clustercontext.schema.json" && (string?)f.Attribute("copyToOutput") == "true");
        }

        AssertSymbols(package + ".snupkg", "ClusterContext", "ClusterContext.Protocol");
    }

    private static void AssertHostingPackage(string package, string version)
    {
        using (var nupkg = ZipFile.OpenRead(package + ".nupkg"))
        {
            var entries = nupkg.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            Assert.Contains("README.md", entries);
            Assert.Contains("lib/net10.0/ClusterContext.AspNetCore.dll", entries);
            Assert.Contains("lib/net10.0/ClusterContext.AspNetCore.xml", entries);
            var nuspec = Nuspec(nupkg, "ClusterContext.AspNetCore.nuspec");
            AssertMetadata(nuspec);
            Assert.Contains(nuspec.Descendants(Name("dependency")), d => (string?)d.Attribute("id") == "ClusterContext" && (string?)d.Attribute("version") == $"[{version}]");
        }

        AssertSymbols(package + ".snupkg", "ClusterContext.AspNetCore");
    }

    private static void AssertDependentPackage(string package, string id, string version)
    {
        using (var nupkg = ZipFile.OpenRead(package + ".nupkg"))
        {
            var entries = nupkg.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
            Assert.Contains("README.md", entries);
            Assert.Contains($"lib/net10.0/{id}.dll", entries);
            Assert.Contains($"lib/net10.0/{id}.xml", entries);
            var nuspec = Nuspec(nupkg, $"{id}.nuspec");
            AssertMetadata(nuspec);
            // Exactly the versions it was built with: it uses their internals.
            Assert.Contains(nuspec.Descendants(Name("dependency")), d => (string?)d.Attribute("id") == "ClusterContext" && (string?)d.Attribute("version") == $"[{version}]");
            Assert.Contains(nuspec.Descendants(Name("dependency")), d => (string?)d.Attribute("id") == "ClusterContext.AspNetCore" && (string?)d.Attribute("version") == $"[{version}]");
        }

        AssertSymbols(package + ".snupkg", id);
    }

    private static void AssertMetadata(XDocument nuspec)
    {
        var license = nuspec.Descendants(Name("license")).Single();
        Assert.Equal(("expression", "MIT"), ((string?)license.Attribute("type"), license.Value));
        Assert.Equal("README.md", nuspec.Descendants(Name("readme")).Single().Value);
        var repository = nuspec.Descendants(Name("repository")).Single();
        Assert.Equal(("git", RepositoryUrl()), ((string?)repository.Attribute("type"), (string?)repository.Attribute("url")));
        Assert.Matches("^[0-9a-f]{40}$", (string?)repository.Attribute("commit"));
    }

    /// <summary>Each assembly's portable PDB is in the symbol package and maps its sources to the repository (SourceLink).</summary>
    private static void AssertSymbols(string snupkg, params string[] assemblies)
    {
        using var symbols = ZipFile.OpenRead(snupkg);
        foreach (var assembly in assemblies)
        {
            using var pdb = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(Read(symbols, $"lib/net10.0/{assembly}.pdb")));
            var reader = pdb.GetMetadataReader();
            var sourceLink = reader.CustomDebugInformation.Select(reader.GetCustomDebugInformation)
                .Where(c => reader.GetGuid(c.Kind) == SourceLinkKind)
                .Select(c => System.Text.Encoding.UTF8.GetString(reader.GetBlobBytes(c.Value)))
                .SingleOrDefault();
            Assert.True(sourceLink is not null, $"{assembly}.pdb has no SourceLink");
            Assert.Contains(RepositoryUrl().Replace("https://github.com/", "https://raw.githubusercontent.com/", StringComparison.Ordinal), sourceLink, StringComparison.Ordinal);
        }
    }

    /// <summary>A console app outside the repository, restoring from the packed folder beside the machine's own source.</summary>
    private static string WriteConsumerApp(string work, string packages, string version)
    {
        // Nothing of a folder above applies (no Directory.Build.*, no central versions), as in a user's new project.
        foreach (var file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(work, file), "<Project />");
        }

        // No <clear />: the machine's default package source stays, for the package's own dependencies.
        new XDocument(new XElement("configuration", new XElement("packageSources",
            new XElement("add", new XAttribute("key", "packed"), new XAttribute("value", packages))))).Save(Path.Combine(work, "nuget.config"));
        var app = WriteProject(work, "Consumer", $"""<PackageReference Include="ClusterContext" Version="{version}" />""");
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            Console.WriteLine($"env:ORDERS_MODE\t{Environment.GetEnvironmentVariable("ORDERS_MODE")}");
            Console.WriteLine($"env:SERVICE_NAME\t{Environment.GetEnvironmentVariable("SERVICE_NAME")}");
            Console.WriteLine($"read:/etc/config/app.json\t{File.ReadAllText("/etc/config/app.json")}");
            Console.WriteLine($"options:agent.address\t{ClusterContext.ClusterContextSession.LoadOptions().Agent.Address}");
            Console.WriteLine($"schema\t{File.Exists(Path.Combine(AppContext.BaseDirectory, "clustercontext.schema.json"))}");
            """);
        return app;
    }

    /// <summary>A new console project NAME in its own folder under <paramref name="work"/>, with <paramref name="items"/> in an item group.</summary>
    private static string WriteProject(string work, string name, string items)
    {
        var app = Directory.CreateDirectory(Path.Combine(work, name)).FullName;
        File.WriteAllText(Path.Combine(app, name + ".csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
            {items}
              </ItemGroup>
            </Project>
            """);
        return app;
    }

    /// <summary>A generic-host console app referencing the hosting package by version, beside the first app (same nuget.config).</summary>
    private static string WriteHostedConsumerApp(string work, string version)
    {
        var app = WriteProject(work, "HostedConsumer", $"""
            <PackageReference Include="ClusterContext.AspNetCore" Version="{version}" />
            <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.11" />
            <Content Include="appsettings.json" CopyToOutputDirectory="PreserveNewest" />
            """);
        File.WriteAllText(Path.Combine(app, "appsettings.json"), """{ "ORDERS_MODE": "local" }""");
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using Microsoft.Extensions.Configuration;
            using Microsoft.Extensions.Hosting;

            var builder = Host.CreateApplicationBuilder(args);
            builder.UseClusterContext();
            using var host = builder.Build();
            Console.WriteLine($"config:ORDERS_MODE\t{builder.Configuration["ORDERS_MODE"]}");
            Console.WriteLine($"read:/etc/config/app.json\t{File.ReadAllText("/etc/config/app.json")}");
            """);
        return app;
    }

    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;

    private static string RepositoryVersion() =>
        XDocument.Load(Path.Combine(AppRun.RepositoryRoot, "Directory.Build.props")).Descendants("Version").First().Value;

    private static string RepositoryUrl() =>
        XDocument.Load(Path.Combine(AppRun.RepositoryRoot, "Directory.Build.props")).Descendants("RepositoryUrl").First().Value;

    private static XName Name(string local) => XName.Get(local, "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd");

    private static XDocument Nuspec(ZipArchive package, string name)
    {
        using var stream = package.GetEntry(name)!.Open();
        return XDocument.Load(stream);
    }

    private static bool IsReadyToRun(byte[] image)
    {
        using var pe = new System.Reflection.PortableExecutable.PEReader(new MemoryStream(image));
        return pe.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }

    private static byte[] Read(ZipArchive package, string name)
    {
        var entry = package.GetEntry(name) ?? throw new InvalidOperationException($"No {name} in the package.");
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The dotnet CLI in <paramref name="directory"/>, without the hook: its exit code and all it printed.</summary>
    private static async Task<(int ExitCode, string Output)> DotnetAsync(string directory, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        info.Environment.Remove("DOTNET_STARTUP_HOOKS");
        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, output + await errors);
    }
}
