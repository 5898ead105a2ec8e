using ClusterContext.Testing.Sandbox.FileSystem;

namespace ClusterContext.Testing.Sandbox.Tests;

public sealed class PodFilePlanTests
{
    [Fact]
    public void Files_sharing_a_directory_become_one_volume_and_root_directory_files_are_mounted_alone()
    {
        var plan = PodFilePlan.Create(new Dictionary<string, byte[]>
        {
            ["/etc/config/app.json"] = [1],
            ["/etc/config/nested/more.json"] = [2],
            ["/etc/secrets/db/password"] = [3],
            ["/etc/motd"] = [4],
        });

        Assert.Equal(["/etc/config", "/etc/secrets/db"], plan.Volumes.Keys.Order());
        Assert.Equal(["app.json", "nested/more.json"], plan.Volumes["/etc/config"].Keys.Order());
        Assert.Equal(["/etc/motd"], plan.SingleFiles.Keys);
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("/etc/../etc/passwd")]
    [InlineData("/etc/config/")]
    [InlineData("/usr/share/app.json")]
    [InlineData("/proc/1/environ")]
    [InlineData("/etc")]
    public void Paths_a_pod_file_cannot_have_are_rejected(string path)
    {
        Assert.Throws<ArgumentException>(() => PodFilePlan.Create(new Dictionary<string, byte[]> { [path] = [] }));
    }

    [Fact]
    public void A_file_cannot_also_be_a_directory()
    {
        Assert.Throws<ArgumentException>(() => PodFilePlan.Create(new Dictionary<string, byte[]>
        {
            ["/etc/config"] = [],
            ["/etc/config/app.json"] = [],
        }));
    }
}
