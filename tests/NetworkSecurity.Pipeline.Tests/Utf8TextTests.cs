using System.Text;
using NetworkSecurity.Pipeline.DataSources;

namespace NetworkSecurity.Pipeline.Tests;

public sealed class Utf8TextTests
{
    private static DataProblem? Check(string latin1) => Utf8Text.FirstInvalid(Encoding.Latin1.GetBytes(latin1), "x.csv");

    [Theory]
    [InlineData("a,b\r\n1,2\r\n\r\n3,\u00e9\r\n", "line 4", 2, "b", 15)] // CRLF, an empty line before the record
    [InlineData("a\tb c\n1\t\u00e9\n", "line 2", 2, "b c", 9)] // tab-separated (a name with a space)
    [InlineData("\"a,x\",\" b \"\n1,\u00e9\n", "line 2", 2, "b", 15)] // quoted names, a separator inside one
    [InlineData("a,b\r1,\"2\r\n\u00e9\"\r", "line 2", 2, "b", 11)] // lone CRs end lines; the cell's break is its record's line
    [InlineData("a,\u00e9\n1,2\n", "line 1", 2, null, 3)] // in the header: no name to give
    public void The_first_invalid_byte_is_located_as_the_csv_reader_numbers_lines_and_columns(string text, string line, int column, string? field, int at)
    {
        var problem = Check(text)!;
        Assert.Equal((line, column, field), (problem.Location, problem.Column, problem.Field));
        Assert.Contains($"0xE9 at byte {at}", problem.Message);
    }

    [Fact]
    public void Utf8_with_or_without_its_byte_order_mark_is_valid_and_offsets_count_the_mark()
    {
        Assert.Null(Utf8Text.FirstInvalid("a,b\n1,Stra\u00dfe \u20ac \U0001F600\n"u8, "x.csv"));
        Assert.Null(Utf8Text.FirstInvalid([0xEF, 0xBB, 0xBF, .. "a,b\n1,2\n"u8], "x.csv"));
        var problem = Utf8Text.FirstInvalid([0xEF, 0xBB, 0xBF, .. "a,b\n1,"u8, 0xC3, 0x28, .. "\n"u8], "x.csv")!;
        Assert.Contains("0xC3 at byte 10", problem.Message); // a lead byte without its continuation: that byte alone
        Assert.Equal(("line 2", 2, "b"), (problem.Location, problem.Column, problem.Field));
        var cut = Utf8Text.FirstInvalid([.. "a,b\n1,"u8, 0xE2, 0x82], "x.csv")!; // cut short by the end of the body
        Assert.Contains("0xE2 0x82 at byte 7", cut.Message);
    }

    [Fact]
    public void Only_utf16_and_utf32_byte_order_marks_name_a_foreign_encoding()
    {
        Assert.Equal("UTF-16 (little-endian)", Utf8Text.ForeignByteOrderMark([0xFF, 0xFE, 0x61, 0x00]));
        Assert.Equal("UTF-16 (big-endian)", Utf8Text.ForeignByteOrderMark([0xFE, 0xFF]));
        Assert.Equal("UTF-32 (little-endian)", Utf8Text.ForeignByteOrderMark([0xFF, 0xFE, 0x00, 0x00]));
        Assert.Equal("UTF-32 (big-endian)", Utf8Text.ForeignByteOrderMark([0x00, 0x00, 0xFE, 0xFF]));
        Assert.Null(Utf8Text.ForeignByteOrderMark([0xEF, 0xBB, 0xBF, 0x61]));
        Assert.Null(Utf8Text.ForeignByteOrderMark("a,b"u8));
    }
}
