using System.Diagnostics;
using Xunit;

namespace WeightScope.Tests.Packaging;

/// <summary>
/// Runs <c>dotnet build</c>, <c>dotnet pack</c>, <c>dotnet tool install</c> and built programs from tests, in their own
/// collection: two builds of the same projects at once would write the same obj/ folders.
/// </summary>
public static class Dotnet
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        /// <summary>Both streams, for assertion messages.</summary>
        public string Output => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    /// <summary>The configuration this test assembly was built in (bin/Release/… or bin/Debug/…), so the samples match.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Split(Path.DirectorySeparatorChar).Contains("Debug") ? "Debug" : "Release";

    /// <summary>Runs <c>dotnet ARGS</c> in <paramref name="workingDirectory"/>; fails the test when it exits non-zero.</summary>
    public static Result Run(string workingDirectory, IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null,
        int timeoutSeconds = 900)
    {
        var r = RunProgram("dotnet", args, workingDirectory, environment, timeoutSeconds);
        Assert.True(r.ExitCode == 0, $"dotnet {string.Join(' ', args)} failed:\n{r.Output}");
        return r;
    }

    /// <summary>Runs a program (colour off) and returns its exit code and output.</summary>
    public static Result RunProgram(string program, IReadOnlyList<string> args, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null, int timeoutSeconds = 120)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }
        // A build server started by the build may hold the pipes open after the build itself has exited: the output
        // is complete once the process is gone, so wait for the readers only briefly.
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10));
        return new Result(p.ExitCode, stdout.IsCompleted ? stdout.Result : "", stderr.IsCompleted ? stderr.Result : "");
    }
}

/// <summary>The tests that build with the SDK (samples, packages): run one after another, never two builds at once.</summary>
[CollectionDefinition(Name)]
public sealed class DotnetBuildCollection
{
    public const string Name = "dotnet builds";
}
