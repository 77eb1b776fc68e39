using WeightScope.IO;
using Xunit;

namespace WeightScope.Tests.IO;

/// <summary>
/// The containment rule for files a model file names: inside its folder, textually and after following every symbolic
/// link on the way; <c>allowOutside</c> lifts it.
/// </summary>
public sealed class ContainedPathTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ws-contained-").FullName;
    private readonly string _folder;

    public ContainedPathTests()
    {
        _folder = Directory.CreateDirectory(Path.Combine(_root, "model")).FullName;
        Directory.CreateDirectory(Path.Combine(_folder, "data"));
        Directory.CreateDirectory(Path.Combine(_root, "elsewhere"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string? Resolve(string name, out string? why) => ContainedPath.Resolve(_folder, name, allowOutside: false, out why);

    [Theory]
    [InlineData("w.bin", "w.bin")]
    [InlineData("data/w.bin", "data/w.bin")]
    [InlineData("data/../w.bin", "w.bin")]
    [InlineData("./data/./w.bin", "data/w.bin")]
    [InlineData("not-yet/created.bin", "not-yet/created.bin")]
    public void Names_inside_the_folder_resolve(string name, string expected)
    {
        Assert.Equal(Path.Combine(_folder, expected), Resolve(name, out var why));
        Assert.Null(why);
    }

    [Theory]
    [InlineData("/etc/passwd", "is an absolute path")]
    [InlineData("../w.bin", "leads out of the folder")]
    [InlineData("data/../../elsewhere/w.bin", "leads out of the folder")]
    [InlineData("..", "leads out of the folder")]
    [InlineData("", "has an empty name")]
    public void Names_leaving_the_folder_are_refused(string name, string reason)
    {
        Assert.Null(Resolve(name, out var why));
        Assert.Equal(reason, why);
    }

    [Fact]
    public void Symbolic_links_are_followed_and_must_stay_inside()
    {
        File.WriteAllText(Path.Combine(_root, "elsewhere", "w.bin"), "x");
        Directory.CreateSymbolicLink(Path.Combine(_folder, "out"), Path.Combine(_root, "elsewhere"));
        File.CreateSymbolicLink(Path.Combine(_folder, "file-out.bin"), Path.Combine(_root, "elsewhere", "w.bin"));
        Directory.CreateSymbolicLink(Path.Combine(_folder, "in"), "data");                   // relative target, inside
        Directory.CreateSymbolicLink(Path.Combine(_folder, "data", "up"), "../../elsewhere"); // relative target, outside
        Directory.CreateSymbolicLink(Path.Combine(_folder, "chain"), "in");                  // a link to a link inside
        const string escapes = "passes through a symbolic link that leads out of the folder";
        foreach (var name in new[] { "out/w.bin", "file-out.bin", "data/up/w.bin", "in/up/w.bin" })
        {
            Assert.Null(Resolve(name, out var why));
            Assert.Equal(escapes, why);
        }
        Assert.Equal(Path.Combine(_folder, "in", "w.bin"), Resolve("in/w.bin", out _));
        Assert.Equal(Path.Combine(_folder, "chain", "w.bin"), Resolve("chain/w.bin", out _));
    }

    [Fact]
    public void A_folder_reached_through_a_link_contains_what_it_holds()
    {
        // The model's folder itself is opened through a link (a checkout under /tmp linked from a home folder, say).
        var linked = Path.Combine(_root, "linked-model");
        Directory.CreateSymbolicLink(linked, _folder);
        Assert.Equal(Path.Combine(linked, "data", "w.bin"), ContainedPath.Resolve(linked, "data/w.bin", false, out var why));
        Assert.Null(why);
    }

    [Fact]
    public void Links_that_loop_do_not_hang()
    {
        Directory.CreateSymbolicLink(Path.Combine(_folder, "a"), "b");
        Directory.CreateSymbolicLink(Path.Combine(_folder, "b"), "a");
        Assert.Equal(Path.Combine(_folder, "a", "w.bin"), Resolve("a/w.bin", out _)); // resolving gives up; it stays inside
    }

    [Fact]
    public void Allowing_outside_resolves_any_name()
    {
        Assert.Equal("/etc/passwd", ContainedPath.Resolve(_folder, "/etc/passwd", allowOutside: true, out var why));
        Assert.Null(why);
        Assert.Equal(Path.Combine(_root, "w.bin"), ContainedPath.Resolve(_folder, "../w.bin", allowOutside: true, out _));
        Assert.Null(ContainedPath.Resolve(_folder, "", allowOutside: true, out why));
        Assert.Equal("has an empty name", why);
    }
}
