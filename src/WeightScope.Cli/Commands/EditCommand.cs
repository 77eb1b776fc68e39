using System.CommandLine;
using System.Globalization;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Cli.Commands;

/// <summary>
/// <c>weightscope edit IN OUT</c>: change tensors and save — <c>param.zero_()</c>, <c>param.mul_(k)</c>, Keras
/// <c>set_weights</c>, renaming and deleting state-dict keys — without touching IN unless <c>--in-place</c>.
/// </summary>
internal static class EditCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("in") { Description = "Weight file to edit" };
        var output = new Argument<string?>("out") { Description = "File to write (format from its ending, or --format); omit with --in-place", Arity = ArgumentArity.ZeroOrOne };
        var set = new Option<string[]>("--set") { Description = "NAME=FILE: replace NAME's values with the one tensor in FILE (.npy or any format); shape and dtype must match" };
        var zero = new Option<string[]>("--zero") { Description = "NAME or glob: fill with zeros (param.zero_())" };
        var scale = new Option<string[]>("--scale") { Description = "NAME=K (NAME may be a glob): multiply by K (param.mul_(K)), computed as torch does for the dtype" };
        var rename = new Option<string[]>("--rename") { Description = "OLD=NEW, or a sed rule 's/^module\\.//'" };
        var drop = new Option<string[]>("--drop") { Description = "NAME or glob: delete (del state_dict[NAME])" };
        var inPlace = new Option<bool>("--in-place") { Description = "Write the result over IN (atomically: a temporary file renamed over it when complete)" };
        var format = WriteCli.FormatOption();
        var refuseShared = WriteCli.RefuseSharedOption();
        var compress = WriteCli.CompressOption();
        var json = WriteCli.JsonOption();
        var cmd = new Command("edit", """
            Edit tensors and save the result. NAMEs always refer to IN's names; edits apply in this order:
            --set, --zero, --scale, then --drop, then --rename. The result goes to a temporary file beside OUT and is
            renamed into place, so OUT (or IN, with --in-place) is never left half-written.

            Examples:
              weightscope edit model.pt edited.pt --zero 'fc2.*' --scale fc1.weight=0.5
              weightscope edit model.safetensors new.safetensors --set fc1.weight=w.npy
              weightscope edit model.pt model.pt --in-place --rename 's/^module\.//' --drop 'aux.*'
            """) { input, output, set, zero, scale, rename, drop, inPlace, format, refuseShared, compress, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            string inPath = p.GetValue(input)!;
            string? outPath = p.GetValue(output);
            bool overwrite = p.GetValue(inPlace);
            if (outPath is not null) WriteCli.RefuseOptionLike(outPath);
            if (overwrite && outPath is not null && !WriteCli.SamePath(inPath, outPath))
                throw new UsageException("--in-place writes over IN; give no OUT (or OUT equal to IN)");
            if (!overwrite && outPath is null) throw new UsageException("give OUT, or --in-place to write over IN");
            if (!overwrite && WriteCli.SamePath(inPath, outPath!))
                throw new UsageException("OUT is IN: pass --in-place to overwrite the input");
            outPath ??= inPath;
            var renames = (p.GetValue(rename) ?? []).Select(WriteCli.ParseRename).ToList();
            var sets = (p.GetValue(set) ?? []).Select(s => WriteCli.KeyValue("--set", s)).ToList();
            var scales = (p.GetValue(scale) ?? []).Select(s =>
            {
                var (name, k) = WriteCli.KeyValue("--scale", s);
                if (!double.TryParse(k, NumberStyles.Float, CultureInfo.InvariantCulture, out var factor) || !double.IsFinite(factor))
                    throw new UsageException($"--scale '{s}': '{k}' is not a finite number");
                return (name, factor);
            }).ToList();
            var zeros = p.GetValue(zero) ?? [];
            var drops = p.GetValue(drop) ?? [];
            if (sets.Count + scales.Count + zeros.Length + drops.Length + renames.Count == 0)
                throw new UsageException("nothing to do: give --set, --zero, --scale, --rename or --drop");

            using var model = Common.Open(inPath);
            WriteCli.CheckOutput(model, outPath, overwrite);
            var tensors = model.Tensors.ToList();
            var replacements = new List<ModelFile>();
            try
            {
                foreach (var (name, file) in sets)
                {
                    if (!model.Tensors.TryGet(name, out var target))
                        throw new UsageException($"--set: no tensor named '{name}' in {inPath}");
                    var source = Common.Open(file);
                    replacements.Add(source);
                    if (source.Tensors.Count != 1)
                        throw new UsageException($"--set {name}={file}: {file} holds {source.Tensors.Count} tensors; give a file with exactly one (e.g. np.save)");
                    Replace(tensors, target, TensorEdits.Replaced(target, source.Tensors[0]));
                }
                foreach (var glob in zeros)
                    foreach (var t in WriteCli.MatchOrFail(model.Tensors, glob, "--zero"))
                        Replace(tensors, t, TensorEdits.Zeroed(Current(tensors, t)));
                foreach (var (glob, factor) in scales)
                    foreach (var t in WriteCli.MatchOrFail(model.Tensors, glob, "--scale"))
                        Replace(tensors, t, TensorEdits.Scaled(Current(tensors, t), factor));
                foreach (var glob in drops)
                {
                    var gone = WriteCli.MatchOrFail(model.Tensors, glob, "--drop").Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
                    tensors.RemoveAll(t => gone.Contains(t.Name));
                }
                if (tensors.Count == 0) throw new UsageException("--drop removed every tensor; nothing to write");
                var result = WriteCli.Rename(tensors, renames);
                var options = new WriteOptions
                {
                    Metadata = WriteCli.Metadata(model, null),
                    SharedStorage = p.GetValue(refuseShared) ? SharedStoragePolicy.Refuse : SharedStoragePolicy.Copy,
                    Compress = p.GetValue(compress),
                };
                string? fmt = p.GetValue(format) ?? (overwrite ? FormatOf(inPath) : null);
                return WriteCli.Save(result, outPath, fmt, options, p.GetValue(json), "wrote");
            }
            finally
            {
                foreach (var r in replacements) r.Dispose();
            }
        }));
        return cmd;
    }

    // Edits of one tensor compose (--zero then --scale of the same name): each applies to the current version.
    private static TensorEntry Current(List<TensorEntry> tensors, TensorEntry original) => tensors.First(t => t.Name == original.Name);

    private static void Replace(List<TensorEntry> tensors, TensorEntry original, TensorEntry edited) =>
        tensors[tensors.FindIndex(t => t.Name == original.Name)] = edited;

    // --in-place keeps IN's format: the writer its file name selects.
    private static string FormatOf(string path)
    {
        try { return TensorWriters.ForPath(path).Name; }
        catch (ModelWriteException) { throw new UsageException($"--in-place: cannot tell which format to write {path} in from its name; add --format"); }
    }
}
