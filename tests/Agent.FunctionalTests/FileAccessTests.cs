using System.Security.Cryptography;
using System.Text;
using ClusterContext.Protocol;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.FunctionalTests;

[Collection(SandboxGroup.Name)]
public class FileAccessTests(SandboxAgentFixture fixture)
{
    private const string ServiceAccount = "/var/run/secrets/kubernetes.io/serviceaccount";

    [Fact]
    public async Task A_pod_only_file_reads_back_byte_identical_and_does_not_exist_on_the_host()
    {
        await using var client = await fixture.ConnectAsync();
        Assert.Equal(SandboxAgentFixture.ConfigContent, await client.ReadAllBytesAsync(SandboxAgentFixture.ConfigPath));
        Assert.False(File.Exists(SandboxAgentFixture.ConfigPath));
    }

    [Fact]
    public async Task A_50_MB_file_reads_back_byte_identical()
    {
        await using var client = await fixture.ConnectAsync();
        var file = await client.OpenReadAsync(SandboxAgentFixture.BigFilePath);
        await using (file)
        {
            Assert.Equal(fixture.BigFile.Length, file.Stat.Size);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81_920];
            long total = 0;
            int read;
            while ((read = await file.Content.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
            }

            Assert.Equal(fixture.BigFile.Length, total);
            Assert.Equal(SHA256.HashData(fixture.BigFile), hash.GetHashAndReset());
        }
    }

    [Fact]
    public async Task A_ranged_read_returns_exactly_that_range()
    {
        await using var client = await fixture.ConnectAsync();
        var file = await client.OpenReadAsync(SandboxAgentFixture.BigFilePath, offset: 1_000_003, length: 777_777);
        await using (file)
        {
            using var copy = new MemoryStream();
            await file.Content.CopyToAsync(copy);
            Assert.Equal(fixture.BigFile.AsSpan(1_000_003, 777_777).ToArray(), copy.ToArray());
        }
    }

    [Fact]
    public async Task Stat_describes_the_file_in_the_container()
    {
        await using var client = await fixture.ConnectAsync();
        var stat = await client.StatAsync(SandboxAgentFixture.BigFilePath);
        Assert.Equal(FileType.File, stat.Type);
        Assert.Equal(fixture.BigFile.Length, stat.Size);
        Assert.InRange(stat.LastWriteTimeUtc, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1));

        var directory = await client.StatAsync("/etc/config");
        Assert.Equal(FileType.Directory, directory.Type);
    }

    [Fact]
    public async Task The_service_account_folder_has_the_kubelets_symlink_layout()
    {
        await using var client = await fixture.ConnectAsync();
        var entries = await client.ReadDirectoryAsync(ServiceAccount);
        Assert.Contains(entries, e => e.Name == "token" && e.Type == FileType.Symlink);
        Assert.Contains(entries, e => e.Name == "..data" && e.Type == FileType.Symlink);

        Assert.Equal("..data/token", await client.ReadLinkAsync($"{ServiceAccount}/token"));
        var token = Encoding.UTF8.GetString(await client.ReadAllBytesAsync($"{ServiceAccount}/token"));
        Assert.Equal(new Testing.Sandbox.PodSandboxOptions().ServiceAccountToken, token);
        Assert.Equal(fixture.Sandbox.Namespace, Encoding.UTF8.GetString(await client.ReadAllBytesAsync($"{ServiceAccount}/namespace")));

        var link = await client.StatAsync($"{ServiceAccount}/token", followSymlinks: false);
        Assert.Equal(FileType.Symlink, link.Type);
    }

    [Fact]
    public async Task An_absolute_symlink_inside_the_container_resolves_inside_the_container()
    {
        await using var client = await fixture.ConnectAsync();
        var hostname = Encoding.UTF8.GetString(await client.ReadAllBytesAsync("/tmp/hostname-link")).Trim();
        Assert.Equal(fixture.Sandbox.PodName, hostname);
    }

    [Fact]
    public async Task Dot_dot_above_the_root_is_refused()
    {
        Assert.True(File.Exists(fixture.Sandbox.HostOnlyPath));
        await using var client = await fixture.ConnectAsync();
        var error = await Assert.ThrowsAsync<RemoteException>(() => client.ReadAllBytesAsync("/../../../.." + fixture.Sandbox.HostOnlyPath));
        Assert.Equal(ErrorCode.PathOutsideRoot, error.Code);
        error = await Assert.ThrowsAsync<RemoteException>(() => client.StatAsync("/etc/../../etc/passwd"));
        Assert.Equal(ErrorCode.PathOutsideRoot, error.Code);
    }

    [Theory]
    [InlineData("/tmp/escape-absolute")]
    [InlineData("/tmp/escape-relative")]
    public async Task A_symlink_pointing_out_of_the_container_never_reaches_the_host(string link)
    {
        await using var client = await fixture.ConnectAsync();

        // The link is resolved inside the container's root, where the host file does not exist.
        var error = await Assert.ThrowsAsync<RemoteException>(() => client.ReadAllBytesAsync(link));
        Assert.Equal(ErrorCode.NotFound, error.Code);
        error = await Assert.ThrowsAsync<RemoteException>(() => client.StatAsync(link));
        Assert.Equal(ErrorCode.NotFound, error.Code);
    }

    [Fact]
    public async Task A_magic_link_through_proc_is_refused()
    {
        // /proc/1/root inside the container is the host's root: the kernel must not follow it.
        await using var client = await fixture.ConnectAsync();
        var error = await Assert.ThrowsAsync<RemoteException>(() => client.ReadAllBytesAsync("/proc/1/root" + fixture.Sandbox.HostOnlyPath));
        Assert.Contains(error.Code, new[] { ErrorCode.PathOutsideRoot, ErrorCode.TooManyLinks, ErrorCode.AccessDenied });
    }

    [Fact]
    public async Task Missing_files_and_wrong_types_get_clear_errors()
    {
        await using var client = await fixture.ConnectAsync();
        var missing = await Assert.ThrowsAsync<RemoteException>(() => client.StatAsync("/etc/config/missing.json"));
        Assert.Equal(ErrorCode.NotFound, missing.Code);
        Assert.Contains("/etc/config/missing.json", missing.Message, StringComparison.Ordinal);

        var directory = await Assert.ThrowsAsync<RemoteException>(() => client.ReadAllBytesAsync("/etc/config"));
        Assert.Equal(ErrorCode.IsADirectory, directory.Code);

        var notLink = await Assert.ThrowsAsync<RemoteException>(() => client.ReadLinkAsync("/etc/hostname"));
        Assert.Equal(ErrorCode.NotASymlink, notLink.Code);

        var relative = await Assert.ThrowsAsync<RemoteException>(() => client.StatAsync("etc/hostname"));
        Assert.Equal(ErrorCode.InvalidArgument, relative.Code);
    }
}
