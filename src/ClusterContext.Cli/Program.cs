using System.CommandLine;
using ClusterContext.Cli;

// clusterctx: the command line of ClusterContext (docs/cli.md).
var root = CommandLine.Build();
var parsed = root.Parse(args, new ParserConfiguration
{
    // An argument of the program `run` starts (curl -d @body.json) is the program's, not a response file.
    ResponseFileTokenReplacer = null,
});
return await CommandLine.InvokeAsync(parsed);
