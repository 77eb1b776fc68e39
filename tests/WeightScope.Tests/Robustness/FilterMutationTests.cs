using WeightScope.Formats.Hdf5.BTrees;
using WeightScope.Formats.Hdf5.Filters;
using WeightScope.Tests.Formats.Hdf5;
using Xunit;

namespace WeightScope.Tests.Robustness;

/// <summary>
/// Mutation fuzzing of the HDF5 filter decoders on their own: the first stored chunk of every dataset in
/// fixtures/hdf5/filters (one per filter, codec, shuffle and type) is mutated — truncated, bit-flipped, size fields
/// inflated, spliced (<see cref="MutationTests.Mutate"/>) — and, one time in four, one value of its client data is
/// replaced too; the pipeline is then undone as a chunk read undoes it. Only <see cref="ModelFormatException"/> may
/// escape, within <see cref="FuzzCheck"/>'s time and allocation bounds (the chunk's decoded size allowed on top, as for
/// a tensor read). File-level mutations of the same files run in <see cref="MutationTests"/>.
/// </summary>
public class FilterMutationTests
{
    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_ITERATIONS"), out var n) ? n : 25;

    public static TheoryData<string, string> Chunks()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Directory.GetFiles(TestPaths.Fixture("hdf5", "filters"), "*.h5").Order(StringComparer.Ordinal))
        {
            using var nav = new Hdf5Navigator(File.ReadAllBytes(file));
            using var model = ModelFile.Open(file);
            foreach (var name in model.Tensors.Select(t => t.Name).Concat(model.Metadata.Keys.Where(k => !k.Contains('@'))))
                if (nav.Object(name).Filters.Count > 0) data.Add(Path.GetFileName(file), name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Chunks))]
    public void Mutated_chunk_fails_only_with_format_errors(string file, string dataset)
    {
        var bytes = File.ReadAllBytes(TestPaths.Fixture("hdf5", "filters", file));
        using var nav = new Hdf5Navigator(bytes);
        var obj = nav.Object(dataset);
        var layout = obj.Layout!;
        var chunk = BTreeV1.Chunks(nav.File, layout.Address, layout.ChunkDims.Length, 0, dataset)[0];
        var stored = bytes.AsSpan((int)nav.Abs(chunk.Address), (int)chunk.Size).ToArray();
        int chunkBytes = checked((int)(layout.ChunkDims.Aggregate(1L, (a, d) => a * d) * obj.Type!.Size));
        // The unmutated chunk decodes to a whole chunk (refused.h5 holds the filters refused by design: they refuse it
        // as unsupported), so the mutations below exercise a working decoder, not one that fails on everything.
        if (file == "refused.h5")
            Assert.Throws<UnsupportedModelFeatureException>(() => FilterDecoder.Decode(stored, obj.Filters, chunk.FilterMask, chunkBytes, 0, dataset));
        else
            Assert.Equal(chunkBytes, FilterDecoder.Decode(stored, obj.Filters, chunk.FilterMask, chunkBytes, 0, dataset).Length);
        var rng = new Random(StructuredMutations.StableSeed(file + dataset));
        for (int i = 0; i < Iterations; i++)
        {
            var (mutated, how) = MutationTests.Mutate(stored, rng);
            var filters = obj.Filters;
            if (rng.Next(4) == 0)
            {
                int f = rng.Next(filters.Count);
                var cd = (uint[])filters[f].ClientData.Clone();
                if (cd.Length > 0)
                {
                    int at = rng.Next(cd.Length);
                    cd[at] = rng.Next(3) switch { 0 => (uint)rng.Next(), 1 => cd[at] + 1, _ => cd[at] ^ (1u << rng.Next(32)) };
                    how += $", client data [{at}] of filter {filters[f].Id} = {cd[at]}";
                    filters = [.. filters.Select((x, k) => k == f ? x with { ClientData = cd } : x)];
                }
            }
            var pipeline = filters;
            FuzzCheck.CheckWork(allowance =>
            {
                allowance.Bytes = 4L * chunkBytes;
                FilterDecoder.Decode(mutated, pipeline, chunk.FilterMask, chunkBytes, 0, dataset);
            }, mutated.Length, $"{file}:{dataset}, mutation {i} ({how})");
        }
    }
}
