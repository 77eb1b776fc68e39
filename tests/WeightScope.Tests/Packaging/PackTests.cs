using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using WeightScope.Tests.Cli;
using Xunit;

namespace WeightScope.Tests.Packaging;

/// <summary>
/// <c>dotnet pack</c> makes the <c>WeightScope</c> library package (XML docs, README, symbols, license) and the
/// <c>WeightScope.Tool</c> dotnet tool (command <c>weightscope</c>); the README's "## Install" commands are run as written,
/// with a temporary folder for <c>artifacts/packages</c> and <c>--tool-path</c> for <c>--global</c>, offline (the only
/// package source is the folder the packs wrote), and the installed tool must print what the CLI prints.
/// </summary>
[Collection(DotnetBuildCollection.Name)]
public sealed class PackTests : IDisposable
{
    private const string ReadmePackages = "artifacts/packages";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-pack-" + Guid.NewGuid().ToString("N"));

    public PackTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The one version, from Directory.Build.props.</summary>
    private static string Version()
    {
        var props = XDocument.Load(Path.Combine(TestPaths.RepoRoot, "Directory.Build.props"));
        var versions = props.Descendants("Version").Select(v => v.Value).ToList();
        Assert.Single(versions);
        return versions[0];
    }

    /// <summary>The command lines of the README's "## Install" section (its first sh block), comments removed.</summary>
    private static List<string> InstallCommands()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var section = Regex.Match(readme, @"^## Install\n(.*?)(?=^## )", RegexOptions.Singleline | RegexOptions.Multiline);
        Assert.True(section.Success, "README.md has no '## Install' section");
        var block = Regex.Match(section.Groups[1].Value, "```sh\n(.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, "the '## Install' section has no ```sh block");
        return block.Groups[1].Value.Split('\n').Select(l => Regex.Replace(l, @"\s+#.*$", "").Trim()).Where(l => l.Length > 0).ToList();
    }

    [Fact]
    public void Readme_installs_the_version_directory_build_props_sets()
    {
        var install = Assert.Single(InstallCommands(), c => c.StartsWith("dotnet tool install", StringComparison.Ordinal));
        Assert.Contains($" WeightScope.Tool --version {Version()} ", install + " ", StringComparison.Ordinal);
    }

    [Fact]
    public void Readme_install_commands_pack_install_and_run_the_tool()
    {
        string version = Version();
        string packages = Path.Combine(_dir, "packages");
        string tools = Path.Combine(_dir, "tools");
        string work = Path.Combine(_dir, "work");
        Directory.CreateDirectory(work);
        // Offline and hermetic: the install sees only the packages folder (no nuget.org), and extracts into its own
        // cache, so a package of the same version from an earlier run can never be the one installed.
        File.WriteAllText(Path.Combine(work, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
              </packageSources>
            </configuration>
            """);
        var isolated = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(_dir, "nuget-cache") };

        var commands = InstallCommands();
        Assert.Equal(5, commands.Count);
        int packs = 0, installs = 0, runs = 0;
        foreach (var command in commands)
        {
            var args = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a => a == ReadmePackages ? packages : a).ToList();
            if (args[0] == "dotnet" && args[1] == "pack")
            {
                Dotnet.Run(TestPaths.RepoRoot, [.. args.Skip(1), "--nologo", "-nodeReuse:false"]);
                packs++;
            }
            else if (args[0] == "dotnet" && args[1] == "tool" && args[2] == "install")
            {
                int global = args.IndexOf("--global");
                Assert.True(global > 0, $"the README installs with --global: {command}");
                args[global] = "--tool-path";
                args.Insert(global + 1, tools);
                Dotnet.Run(work, [.. args.Skip(1)], isolated);
                installs++;
            }
            else if (args[0] == "weightscope")
            {
                var installed = Dotnet.RunProgram(Path.Combine(tools, "weightscope"), args.Skip(1).ToList(), TestPaths.RepoRoot);
                var cli = CliRunner.RunIn(TestPaths.RepoRoot, [.. args.Skip(1)]);
                Assert.Equal(0, cli.ExitCode);
                Assert.True(installed.ExitCode == 0, installed.Output);
                Assert.Equal(cli.Stdout, installed.Stdout);
                Assert.Contains("fc1.weight", installed.Stdout, StringComparison.Ordinal);
                runs++;
            }
            else
            {
                Assert.Fail($"the test does not know how to run this README command: {command}");
            }
        }
        Assert.Equal((3, 1, 1), (packs, installs, runs));

        CheckLibraryPackage(packages, version);
        CheckTorchSharpPackage(packages, version);
        CheckToolPackage(packages, version);
    }

    private static XElement Nuspec(ZipArchive zip)
    {
        var entry = Assert.Single(zip.Entries, e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
        using var s = entry.Open();
        return XDocument.Load(s).Root!.Elements().First(e => e.Name.LocalName == "metadata");
    }

    private static string? Field(XElement metadata, string name) => metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    // TorchSharp only: the application picks its libtorch (CPU or CUDA), so neither TorchSharp-cpu nor libtorch-* is a dependency.
    private static void CheckTorchSharpPackage(string packages, string version)
    {
        using var zip = ZipFile.OpenRead(Path.Combine(packages, $"WeightScope.TorchSharp.{version}.nupkg"));
        var names = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("lib/net10.0/WeightScope.TorchSharp.dll", names);
        Assert.Contains("lib/net10.0/WeightScope.TorchSharp.xml", names);
        Assert.Contains("README.md", names);
        var m = Nuspec(zip);
        Assert.Equal("WeightScope.TorchSharp", Field(m, "id"));
        Assert.Equal(version, Field(m, "version"));
        Assert.Equal("README.md", Field(m, "readme"));
        var dependencies = m.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).Order().ToList();
        Assert.Equal(["TorchSharp", "WeightScope"], dependencies);
    }

    private static void CheckLibraryPackage(string packages, string version)
    {
        using var zip = ZipFile.OpenRead(Path.Combine(packages, $"WeightScope.{version}.nupkg"));
        var names = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("lib/net10.0/WeightScope.dll", names);
        Assert.Contains("lib/net10.0/WeightScope.xml", names);
        Assert.Contains("README.md", names);
        var m = Nuspec(zip);
        Assert.Equal("WeightScope", Field(m, "id"));
        Assert.Equal(version, Field(m, "version"));
        Assert.Equal("MIT", Field(m, "license"));
        Assert.Equal("README.md", Field(m, "readme"));
        Assert.False(string.IsNullOrWhiteSpace(Field(m, "description")));
        Assert.Contains("pytorch", Field(m, "tags") ?? "", StringComparison.Ordinal);
        // Dependencies are what the library needs at run time; the protobuf compiler (a build tool) is not one.
        var dependencies = m.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).ToList();
        Assert.Contains("Google.Protobuf", dependencies);
        Assert.DoesNotContain("Grpc.Tools", dependencies);

        using (var readme = zip.GetEntry("README.md")!.Open())
        using (var reader = new StreamReader(readme))
            Assert.Equal(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "src", "WeightScope", "README.md")), reader.ReadToEnd());

        using var symbols = ZipFile.OpenRead(Path.Combine(packages, $"WeightScope.{version}.snupkg"));
        Assert.Contains(symbols.Entries, e => e.FullName == "lib/net10.0/WeightScope.pdb");
    }

    // The tool is a .NET 10 RID-specific tool: a pointer package naming one package per runtime; linux-x64's is
    // ReadyToRun-compiled (start-up without JIT), "any" is the portable IL fallback.
    private static void CheckToolPackage(string packages, string version)
    {
        using (var pointer = ZipFile.OpenRead(Path.Combine(packages, $"WeightScope.Tool.{version}.nupkg")))
        {
            using (var s = pointer.GetEntry("tools/any/any/DotnetToolSettings.xml")!.Open())
            {
                var settings = XDocument.Load(s);
                Assert.Equal("weightscope", settings.Descendants().Single(e => e.Name.LocalName == "Command").Attribute("Name")?.Value);
                var rids = settings.Descendants().Where(e => e.Name.LocalName == "RuntimeIdentifierPackage")
                    .Select(e => (e.Attribute("RuntimeIdentifier")!.Value, e.Attribute("Id")!.Value)).ToList();
                Assert.Equal([("linux-x64", "WeightScope.Tool.linux-x64"), ("any", "WeightScope.Tool.any")], rids);
            }
            var m = Nuspec(pointer);
            Assert.Equal("WeightScope.Tool", Field(m, "id"));
            Assert.Equal(version, Field(m, "version"));
            Assert.Equal("MIT", Field(m, "license"));
            Assert.Equal("README.md", Field(m, "readme"));
            Assert.Contains(m.Descendants(), e => e.Name.LocalName == "packageType" && e.Attribute("name")?.Value == "DotnetTool");
        }
        foreach (var (rid, readyToRun) in new[] { ("linux-x64", true), ("any", false) })
        {
            using var zip = ZipFile.OpenRead(Path.Combine(packages, $"WeightScope.Tool.{rid}.{version}.nupkg"));
            var names = zip.Entries.Select(e => e.FullName).ToHashSet();
            string tool = $"tools/net10.0/{rid}/";
            using (var s = zip.GetEntry(tool + "DotnetToolSettings.xml")!.Open())
            {
                var command = XDocument.Load(s).Descendants().Single(e => e.Name.LocalName == "Command");
                Assert.Equal("weightscope", command.Attribute("Name")?.Value);
                Assert.Contains(tool + command.Attribute("EntryPoint")!.Value, names);
            }
            Assert.Contains(tool + "WeightScope.dll", names);
            Assert.Equal(readyToRun, IsReadyToRun(zip, tool + "WeightScope.dll"));
            Assert.Equal(readyToRun, IsReadyToRun(zip, tool + "WeightScope.Cli.dll"));
        }
    }

    // A ReadyToRun image carries a managed native header (the R2R header) in its CLI header; IL-only assemblies do not.
    private static bool IsReadyToRun(ZipArchive zip, string entry)
    {
        using var s = zip.GetEntry(entry)!.Open();
        var bytes = new MemoryStream();
        s.CopyTo(bytes);
        bytes.Position = 0;
        using var pe = new System.Reflection.PortableExecutable.PEReader(bytes);
        return pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0;
    }
}
