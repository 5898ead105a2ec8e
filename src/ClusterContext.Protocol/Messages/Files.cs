namespace ClusterContext.Protocol.Messages;

/// <summary>Asks for a file's metadata; paths are absolute paths as the container sees them.</summary>
/// <param name="Path">Absolute path in the container.</param>
/// <param name="FollowSymlinks">false to describe a final symbolic link itself (lstat).</param>
internal sealed record StatRequest(string Path, bool FollowSymlinks) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Stat;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteBool(FollowSymlinks);
    }

    internal static StatRequest Read(ref PayloadReader reader) => new(reader.ReadString(), reader.ReadBool());
}

/// <summary>The answer to <see cref="StatRequest"/>.</summary>
internal sealed record StatResponse(FileStat Stat) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.StatResult;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => FileStat.Write(writer, Stat);

    internal static StatResponse Read(ref PayloadReader reader) => new(FileStat.Read(ref reader));
}

/// <summary>Lists a directory, starting after the first <paramref name="Skip"/> entries (for directories too big for one frame).</summary>
internal sealed record ReadDirectoryRequest(string Path, int Skip) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.ReadDirectory;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteInt32(Skip);
    }

    internal static ReadDirectoryRequest Read(ref PayloadReader reader) => new(reader.ReadString(), reader.ReadInt32());
}

/// <summary>One directory entry (without <c>.</c> and <c>..</c>).</summary>
internal sealed record DirectoryEntry(string Name, FileType Type)
{
    internal static void Write(PayloadWriter writer, DirectoryEntry entry)
    {
        writer.WriteString(entry.Name);
        writer.WriteByte((byte)entry.Type);
    }

    internal static DirectoryEntry Read(ref PayloadReader reader) => new(reader.ReadString(), FileStat.ReadFileType(ref reader));
}

/// <summary>Entries of a directory; <paramref name="HasMore"/> asks the client to continue with a larger skip.</summary>
internal sealed record ReadDirectoryResponse(IReadOnlyList<DirectoryEntry> Entries, bool HasMore) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.DirectoryEntries;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteList(Entries, DirectoryEntry.Write);
        writer.WriteBool(HasMore);
    }

    internal static ReadDirectoryResponse Read(ref PayloadReader reader) => new(reader.ReadList(DirectoryEntry.Read), reader.ReadBool());
}

/// <summary>Reads the target of a symbolic link.</summary>
internal sealed record ReadLinkRequest(string Path) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.ReadLink;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => writer.WriteString(Path);

    internal static ReadLinkRequest Read(ref PayloadReader reader) => new(reader.ReadString());
}

/// <summary>The link's target, exactly as stored (it may be relative).</summary>
internal sealed record ReadLinkResponse(string Target) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.LinkTarget;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => writer.WriteString(Target);

    internal static ReadLinkResponse Read(ref PayloadReader reader) => new(reader.ReadString());
}

/// <summary>
/// Opens a file and streams its bytes from <paramref name="Offset"/>: <paramref name="Length"/> bytes, or to the end
/// of the file when negative. The stream has the request's id and ends after the last byte.
/// </summary>
internal sealed record OpenReadRequest(string Path, long Offset, long Length) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.OpenRead;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteInt64(Offset);
        writer.WriteInt64(Length);
    }

    internal static OpenReadRequest Read(ref PayloadReader reader) => new(reader.ReadString(), reader.ReadInt64(), reader.ReadInt64());
}

/// <summary>The opened file's metadata, taken from the open handle so it matches the bytes that follow.</summary>
internal sealed record OpenReadResponse(FileStat Stat) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.OpenedRead;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => FileStat.Write(writer, Stat);

    internal static OpenReadResponse Read(ref PayloadReader reader) => new(FileStat.Read(ref reader));
}

/// <summary>Replaces a file's content in the container (creating it, mode 0644, when missing). The content fits in one frame.</summary>
internal sealed record WriteFileRequest(string Path, byte[] Content) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.WriteFile;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
        writer.WriteString(Path);
        writer.WriteBytes(Content);
    }

    internal static WriteFileRequest Read(ref PayloadReader reader) => new(reader.ReadString(), reader.ReadBytes());
}

/// <summary>The written file's metadata.</summary>
internal sealed record WriteFileResponse(FileStat Stat) : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.FileWritten;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer) => FileStat.Write(writer, Stat);

    internal static WriteFileResponse Read(ref PayloadReader reader) => new(FileStat.Read(ref reader));
}

/// <summary>
/// Opens a change-notification stream: the client writes directory paths to watch, one per line (UTF-8, '\n'); the
/// agent writes the path of a watched directory, one per line, whenever something in it changes.
/// </summary>
internal sealed record WatchRequest : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Watch;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
    }

    internal static WatchRequest Read(ref PayloadReader reader) => new();
}

/// <summary>The watch stream is open.</summary>
internal sealed record WatchResponse : Message
{
    /// <inheritdoc/>
    public override MessageKind Kind => MessageKind.Watching;

    /// <inheritdoc/>
    public override void WriteBody(PayloadWriter writer)
    {
    }

    internal static WatchResponse Read(ref PayloadReader reader) => new();
}
