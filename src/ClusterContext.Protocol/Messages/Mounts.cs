namespace ClusterContext.Protocol.Messages;

/// <summary>Asks for the target container's mount table.</summary>
internal sealed record GetMountsRequest : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.GetMounts;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
    }

    internal static GetMountsRequest Read(ref PayloadReader reader) => new();
}

/// <summary>One line of <c>/proc/PID/mountinfo</c>, with the mount point as the container sees it.</summary>
/// <param name="MountPoint">Where the mount is seen inside the container.</param>
/// <param name="Root">The path inside the mounted file system that appears at the mount point.</param>
/// <param name="FileSystemType">For example <c>tmpfs</c> (Secrets, service-account token) or <c>overlay</c>.</param>
/// <param name="Source">The mount source.</param>
/// <param name="ReadOnly">Whether the mount is read-only.</param>
internal sealed record MountEntry(string MountPoint, string Root, string FileSystemType, string Source, bool ReadOnly)
{
    internal static void Write(PayloadWriter writer, MountEntry entry)
    {
        writer.WriteString(entry.MountPoint);
        writer.WriteString(entry.Root);
        writer.WriteString(entry.FileSystemType);
        writer.WriteString(entry.Source);
        writer.WriteBool(entry.ReadOnly);
    }

    internal static MountEntry Read(ref PayloadReader reader) =>
        new(reader.ReadString(), reader.ReadString(), reader.ReadString(), reader.ReadString(), reader.ReadBool());
}

/// <summary>The target container's mounts.</summary>
internal sealed record MountsResponse(IReadOnlyList<MountEntry> Mounts) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Mounts;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => writer.WriteList(Mounts, MountEntry.Write);

    internal static MountsResponse Read(ref PayloadReader reader) => new(reader.ReadList(MountEntry.Read));
}
