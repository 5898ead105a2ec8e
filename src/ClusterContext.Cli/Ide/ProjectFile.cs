using System.Xml.Linq;

namespace ClusterContext.Cli.Ide;

/// <summary>The project an IDE configuration is written for: its folder, assembly name and target framework.</summary>
internal sealed record ProjectFile(string Directory, string Path, string AssemblyName, string? TargetFramework)
{
    public static ProjectFile Find(string? directory)
    {
        var folder = System.IO.Path.GetFullPath(directory ?? System.Environment.CurrentDirectory);
        if (File.Exists(folder) && folder.EndsWith("proj", StringComparison.OrdinalIgnoreCase))
        {
            return Read(folder);
        }

        if (!System.IO.Directory.Exists(folder))
        {
            throw new CliException($"--project {folder} does not exist.", ExitCodes.Usage);
        }

        var projects = System.IO.Directory.GetFiles(folder, "*.csproj").Concat(System.IO.Directory.GetFiles(folder, "*.fsproj")).Concat(System.IO.Directory.GetFiles(folder, "*.vbproj")).ToList();
        return projects.Count switch
        {
            1 => Read(projects[0]),
            0 => throw new CliException($"No project file in {folder}; give the app's project folder with --project DIR.", ExitCodes.Usage),
            _ => throw new CliException($"{folder} holds several projects ({string.Join(", ", projects.Select(System.IO.Path.GetFileName))}); name one with --project FILE.", ExitCodes.Usage),
        };
    }

    private static ProjectFile Read(string path)
    {
        string? Property(XDocument document, string name) =>
            document.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value.Trim() is { Length: > 0 } value ? value : null;

        var document = XDocument.Load(path);
        var assembly = Property(document, "AssemblyName") ?? System.IO.Path.GetFileNameWithoutExtension(path);
        var framework = Property(document, "TargetFramework") ?? Property(document, "TargetFrameworks")?.Split(';')[0];
        return new ProjectFile(System.IO.Path.GetDirectoryName(path)!, path, assembly, framework);
    }
}
