using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary><c>scan DIR</c> walks a folder (never following symbolic links); single-model verbs given a folder say which verb takes one.</summary>
public sealed class ScanFolderCliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ws-scandir-" + Guid.NewGuid().ToString("N"));
    private string Dir => Path.Combine(_root, "models");

    public ScanFolderCliTests()
    {
        Directory.CreateDirectory(Path.Combine(Dir, "sub"));
        File.Copy(Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth"), Path.Combine(Dir, "simple_nn.pth"));
        File.Copy(TestPaths.Fixture("pytorch", "checkpoint.tar"), Path.Combine(Dir, "sub", "checkpoint.tar"));
        File.WriteAllText(Path.Combine(Dir, "README.md"), "# checkpoints\n");
        File.WriteAllText(Path.Combine(Dir, "sub", "train.py"), "import torch\n");
        // A dangerous pickle outside the folder, reachable only through a link; and a link back up (a loop).
        File.Copy(TestPaths.Fixture("pytorch-crafted", "evil_os_system_p0.pkl"), Path.Combine(_root, "evil.pkl"));
        File.CreateSymbolicLink(Path.Combine(Dir, "evil_link.pkl"), Path.Combine(_root, "evil.pkl"));
        Directory.CreateSymbolicLink(Path.Combine(Dir, "sub", "loop"), Dir);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    [Fact]
    public void A_folder_is_walked_one_line_per_file_links_not_followed()
    {
        var r = CliRunner.Run("scan", Dir);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("safe        simple_nn.pth  (pytorch-zip; 0 dangerous", lines[0]);
        Assert.StartsWith($"safe        {Path.Combine("sub", "checkpoint.tar")}  (", lines[1]);
        Assert.Equal("summary: 2 file(s) scanned, 2 skipped (not a model or pickle), 2 symbolic link(s) not followed; 2 safe, 0 suspicious, 0 dangerous, 0 unreadable", lines[2]);
    }

    [Fact]
    public void A_dangerous_file_inside_makes_exit_one_and_json_has_one_object_per_file()
    {
        File.Copy(TestPaths.Fixture("pytorch-crafted", "evil_os_system_p0.pkl"), Path.Combine(Dir, "sub", "evil.pkl"));
        var r = CliRunner.Run("scan", Dir);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"dangerous   {Path.Combine("sub", "evil.pkl")}  (pickle; ", r.Stdout);
        Assert.Contains("1 dangerous, 0 unreadable — DO NOT load the dangerous files", r.Stdout);

        var j = CliRunner.Run("scan", Dir, "--json");
        Assert.Equal(1, j.ExitCode);
        using var doc = JsonDocument.Parse(j.Stdout);
        var files = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(3, files.Count);
        // each object has the single-file shape
        var single = JsonDocument.Parse(CliRunner.Run("scan", Path.Combine(Dir, "sub", "evil.pkl"), "--json").Stdout).RootElement;
        var evil = files.Single(f => f.GetProperty("file").GetString()!.EndsWith("evil.pkl", StringComparison.Ordinal));
        Assert.Equal(single.EnumerateObject().Select(p => p.Name), evil.EnumerateObject().Select(p => p.Name));
        Assert.Equal("dangerous", evil.GetProperty("verdict").GetString());
    }

    [Fact]
    public void An_unreadable_model_makes_exit_three_when_nothing_is_dangerous()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth"));
        File.WriteAllBytes(Path.Combine(Dir, "truncated.pth"), bytes[..(bytes.Length / 2)]);
        var r = CliRunner.Run("scan", Dir);
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("unreadable  truncated.pth  (", r.Stdout);
    }

    [Fact]
    public void Scan_of_samples_walks_it()
    {
        // samples/ holds the C# samples too, and once they are built their obj/ folders (JSON assets files, generated
        // .editorconfig text): whatever is there, the walk must end safe.
        var r = CliRunner.Run("scan", Path.Combine(TestPaths.RepoRoot, "samples"));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("safe        simple_nn.pth  (", r.Stdout);
        Assert.Matches(@"\nsummary: \d+ file\(s\) scanned, \d+ skipped \(not a model or pickle\); \d+ safe, 0 suspicious, 0 dangerous, 0 unreadable\n$", r.Stdout);
    }

    [Fact]
    public void Text_that_reads_as_a_pickle_only_by_accident_is_passed_over_but_an_importable_global_is_not()
    {
        // A generated .editorconfig starts "is_global": INST of a module named "s_global = true", which no import finds.
        File.WriteAllText(Path.Combine(Dir, "sub", "App.GeneratedMSBuildEditorConfig.editorconfig"), "is_global = true\nbuild_property.TargetFramework = net10.0\n");
        var clean = CliRunner.Run("scan", Dir);
        Assert.True(clean.ExitCode == 0, clean.Stdout + clean.Stderr);
        Assert.DoesNotContain("editorconfig", clean.Stdout, StringComparison.Ordinal);
        Assert.Contains("3 skipped (not a model or pickle)", clean.Stdout, StringComparison.Ordinal);
        // The same kind of text naming os.system is a protocol-0 pickle that runs a command, whatever the file's name.
        File.WriteAllText(Path.Combine(Dir, "sub", "notes.txt"), "cos\nsystem\n(S'echo'\ntR.");
        var evil = CliRunner.Run("scan", Dir);
        Assert.Equal(1, evil.ExitCode);
        Assert.Contains($"dangerous   {Path.Combine("sub", "notes.txt")}  (pickle; ", evil.Stdout, StringComparison.Ordinal);
        // Named on its own, the accidental one is still read as a pickle (the caller chose to load it).
        var single = CliRunner.Run("scan", Path.Combine(Dir, "sub", "App.GeneratedMSBuildEditorConfig.editorconfig"));
        Assert.NotEqual(0, single.ExitCode);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("info")]
    [InlineData("stats")]
    [InlineData("serve")]
    public void Single_model_verbs_given_a_folder_name_the_verb_that_takes_one(string verb)
    {
        var r = CliRunner.Run(verb, Dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith($"weightscope: {Dir} is a folder, not a model: ", r.Stderr);
        Assert.Contains("'weightscope scan FOLDER'", r.Stderr);
        Assert.DoesNotContain("denied", r.Stderr);
    }

    [Fact]
    public void A_model_folder_still_opens_as_one_model()
    {
        var tfjs = Directory.GetDirectories(TestPaths.Fixture("tfjs")).FirstOrDefault(d => File.Exists(Path.Combine(d, "model.json")));
        Assert.NotNull(tfjs);
        Assert.Equal(0, CliRunner.Run("list", tfjs).ExitCode);
        Assert.Equal(0, CliRunner.Run("scan", tfjs).ExitCode);
    }
}
