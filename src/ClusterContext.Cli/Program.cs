using System.CommandLine;
using ClusterContext.Cli;

// clusterctx: the command line of ClusterContext (docs/cli.md).
// Session hosts start from the hook folder the tool carries, as those of the programs it runs do.
if (File.Exists(Path.Combine(ClusterContext.Cli.Run.HookFiles.HookFolder, ClusterContext.Session.Host.SessionHostClient.HostAssembly)))
{
    ClusterContext.Session.Host.SessionHostClient.HostFolder = ClusterContext.Cli.Run.HookFiles.HookFolder;
}

var root = CommandLine.Build();
var parsed = root.Parse(args, new ParserConfiguration
{
    // An argument of the program `run` starts (curl -d @body.json) is the program's, not a response file.
    ResponseFileTokenReplacer = null,
});
return await CommandLine.InvokeAsync(parsed);
