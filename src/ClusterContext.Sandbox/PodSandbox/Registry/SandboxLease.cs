using System.Text.Json;

namespace ClusterContext.Testing.Sandbox.Registry;

/// <summary>A claimed sandbox number and its state file, kept current as resources are created.</summary>
internal sealed class SandboxLease(SandboxState state, string path)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly Lock _lock = new();

    public SandboxState State { get; } = state;

    public string Path { get; } = path;

    public void AddProcess(string name, int pid, long startTime)
    {
        lock (_lock)
        {
            State.Processes.Add(new SandboxStateProcess(name, pid, startTime));
            SaveLocked();
        }
    }

    public void Save()
    {
        lock (_lock)
        {
            SaveLocked();
        }
    }

    public void Delete() => File.Delete(Path);

    public static SandboxState? TryRead(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<SandboxState>(File.ReadAllText(path), s_json);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static void Write(SandboxState state, string path)
    {
        // Write then rename, so a sweeper in another process never reads half a file.
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(state, s_json));
        File.Move(temporary, path, overwrite: true);
    }

    private void SaveLocked() => Write(State, Path);
}
