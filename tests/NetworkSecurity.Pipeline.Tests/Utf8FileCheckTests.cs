using System.Text;
using NetworkSecurity.Pipeline.DataSources;

namespace NetworkSecurity.Pipeline.Tests;

/// <summary>Data files are read as UTF-8 and refused, with the place named, when they are not.</summary>
public sealed class Utf8FileCheckTests
{
    // Two-, three- and four-byte characters, so that every chunk size cuts some of them.
    private static readonly byte[] Valid = Encoding.UTF8.GetBytes("a,street\n1,Stra\u00dfe \u20ac \U0001F600\n-1,\u00e9\u00e9\u20ac\U0001F600x\n");

    [Fact]
    public void Utf8_read_in_chunks_of_any_size_passes_whatever_characters_the_chunks_cut()
    {
        for (var size = 1; size <= 9; size++)
        {
            var check = new Utf8FileCheck("x.csv");
            foreach (var chunk in Valid.Chunk(size))
            {
                check.Check(chunk);
            }

            check.Check([]);
        }
    }

    [Fact]
    public void A_bad_byte_is_found_whatever_chunk_it_falls_in_and_named_at_its_line_column_field_and_byte()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "latin1.csv");
        var latin1 = Encoding.Latin1.GetBytes("a,street\n1,Main\n-1,Stra\u00dfe\n"); // 0xDF, byte 24
        File.WriteAllBytes(path, latin1);
        for (var size = 1; size <= 9; size++)
        {
            var check = new Utf8FileCheck(path);
            var ex = Assert.Throws<PipelineException>(() =>
            {
                foreach (var chunk in latin1.Chunk(size))
                {
                    check.Check(chunk);
                }

                check.Check([]);
            });
            Assert.StartsWith($"{path}, line 3, column 2 (street): the text is not UTF-8: 0xDF at byte 24 ", ex.Message, StringComparison.Ordinal);
            Assert.Contains("Save the file as UTF-8", ex.Message, StringComparison.Ordinal);
        }

        // A character cut short by the end of the file.
        byte[] cut = [.. "a,b\n1,"u8, 0xF0, 0x9F, 0x98]; // three bytes of a four-byte emoji
        File.WriteAllBytes(path, cut);
        var check2 = new Utf8FileCheck(path);
        var end = Assert.Throws<PipelineException>(() =>
        {
            foreach (var chunk in cut.Chunk(5))
            {
                check2.Check(chunk);
            }

            check2.Check([]);
        });
        Assert.StartsWith($"{path}, line 2, column 2 (b): the text is not UTF-8: 0xF0 0x9F 0x98 at byte 7 ", end.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_refuses_a_latin1_file_and_a_utf16_one_naming_the_place_where_it_decoded_them_without_a_word()
    {
        // Read with replacement characters, a Latin-1 file trained (and predict wrote 'Stra\uFFFDe' back) with exit 0;
        // a UTF-16 file was decoded by its byte order mark.
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "data.csv");
        var lines = File.ReadAllLines(TestPaths.DataFile).Take(40).ToList();
        var label = lines[30].LastIndexOf(',') + 1;
        lines[30] = lines[30][..label] + "\u00e9" + lines[30][label..]; // a Latin-1 é at the start of the label
        File.WriteAllText(path, string.Join('\n', lines) + "\n", Encoding.Latin1);
        var ex = Assert.Throws<PipelineException>(() => CsvTableReader.ReadFile(path));
        Assert.StartsWith($"{path}, line 31, column 31 (Result): the text is not UTF-8: 0xE9 at byte ", ex.Message, StringComparison.Ordinal);

        File.WriteAllText(path, string.Join('\n', lines.Take(3)) + "\n", new UnicodeEncoding(bigEndian: false, byteOrderMark: true));
        var utf16 = Assert.Throws<PipelineException>(() => CsvTableReader.ReadFile(path));
        Assert.Equal($"{path}, line 1: the file is UTF-16 (little-endian) text (it starts with that byte order mark), not UTF-8. Save the file as UTF-8 (a spreadsheet's 'CSV UTF-8').", utf16.Message);

        // UTF-8, with or without its byte order mark, is read as before.
        File.WriteAllText(path, string.Join('\n', lines.Take(3)) + "\n", new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(2, CsvTableReader.ReadFile(path).Records.Count);
    }
}
