namespace WeightScope.Formats.TorchSharp;

/// <summary>
/// TorchSharp's native format: a module state dict (<c>Module.save</c>, or <c>exportsd.save_state_dict</c> from Python),
/// one tensor (<c>Tensor.Save</c>), or an optimizer's state (<c>exportsd.save_&lt;optimizer&gt;</c>). It has no magic, so it is detected last and strictly: a state dict whose whole
/// parse is consistent and ends exactly at the end of the file; with a <c>.dat</c>/<c>.bin</c> extension also a single
/// tensor parsed the same way, or a file that starts like a state dict or an optimizer state (claimed so that the
/// reader can say what is wrong with it). Optimizer state (a known optimizer name, then its options and state, to the
/// end of the file) is read as well.
/// </summary>
internal sealed class TorchSharpFormat : IModelFormat
{
    /// <inheritdoc />
    public string Name => TorchSharpErrors.Format;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions => FileExtensions;

    /// <summary>The extensions TorchSharp's tests and users give these files; they admit the weaker detection forms.</summary>
    private static readonly string[] FileExtensions = [".dat", ".bin"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context)
    {
        if (context.IsDirectory || context.Zip is not null || context.File is not { Length: > 0 } file) return false;
        try
        {
            if (TryParse(() => TorchSharpParser.ParseStateDict(file, context.Limits)) is { Entries.Count: > 0 }) return true;
            if (TorchSharpParser.OptimizerName(file) is not null && TryParse(() => { TorchSharpOptimizer.Parse(file, context.Limits); return new TorchSharpFile(TorchSharpKind.StateDict, []); }) is not null)
                return true;
            if (!HasTorchSharpExtension(context.Path)) return false;
            return TryParse(() => TorchSharpParser.ParseTensor(file)) is not null
                   || TorchSharpParser.OptimizerName(file) is not null
                   // .dat is TorchSharp's own habit, .bin everyone's: only a .dat may start with an unknown element
                   // type and still be claimed (to be reported as such) rather than left to "unknown format".
                   || TorchSharpParser.StartsLikeStateDict(file, unknownTypeAllowed: string.Equals(System.IO.Path.GetExtension(context.Path), ".dat", StringComparison.OrdinalIgnoreCase));
        }
        catch (Exception e) when (e is ArgumentException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        var file = context.File!;
        TorchSharpFile parsed;
        try
        {
            parsed = TorchSharpParser.ParseStateDict(file, options.Limits);
        }
        catch (ModelFormatException) when (HasTorchSharpExtension(context.Path) && TryParse(() => TorchSharpParser.ParseTensor(file)) is { } single)
        {
            parsed = single;
        }
        catch (ModelFormatException) when (TorchSharpParser.OptimizerName(file) is not null)
        {
            return TorchSharpReader.MapOptimizer(TorchSharpOptimizer.Parse(file, options.Limits), file);
        }
        return TorchSharpReader.Map(parsed, file);
    }

    private static bool HasTorchSharpExtension(string? path) =>
        path is not null && FileExtensions.Contains(System.IO.Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    private static TorchSharpFile? TryParse(Func<TorchSharpFile> parse)
    {
        try { return parse(); }
        catch (ModelFormatException) { return null; }
    }
}
