#include "client/study_import.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rqs::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ErrorOf(absl::StatusOr<std::vector<StudyRecord>> result) {
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(result.status().message());
}

TEST(ParseStudiesCsvTest, ReadsColumnsInAnyOrderWithQuoting) {
  const absl::StatusOr<std::vector<StudyRecord>> studies = ParseStudiesCsv(
      "\xEF\xBB\xBFYear,Title,DOI,authors,study_type,external_id,notes,ignored\r\n"
      "2021,\"CT radiomics, EGFR\",https://doi.org/10.1000/ABC,Smith J; Doe "
      "A,hcr,S1,\"line1\nline2\",x\r\n"
      "\r\n"
      ",\"A \"\"quoted\"\" title\",,,DLR,,,\n");
  ASSERT_TRUE(studies.ok()) << studies.status();
  ASSERT_EQ(studies->size(), 2u);
  const StudyRecord& first = (*studies)[0];
  EXPECT_EQ(first.title, "CT radiomics, EGFR");
  EXPECT_THAT(first.authors, ElementsAre("Smith J", "Doe A"));
  EXPECT_EQ(first.year, 2021);
  EXPECT_EQ(first.doi, "10.1000/abc");
  EXPECT_EQ(first.study_type, scoring::StudyType::kHandcrafted);
  EXPECT_EQ(first.external_id, "S1");
  EXPECT_EQ(first.notes, "line1\nline2");
  EXPECT_EQ(first.line, 2u);
  const StudyRecord& second = (*studies)[1];
  EXPECT_EQ(second.title, "A \"quoted\" title");
  EXPECT_FALSE(second.year.has_value());
  EXPECT_EQ(second.study_type, scoring::StudyType::kDeepLearning);
  EXPECT_EQ(second.line, 5u);
}

TEST(ParseStudiesCsvTest, RejectsBadRecordsNamingTheLine) {
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("")), HasSubstr("empty file"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("name,year\nx,2020\n")),
              HasSubstr("line 1: header has no 'title' column"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title,Title\nx,y\n")),
              HasSubstr("line 1: column 'title' appears twice"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title\n")), HasSubstr("no studies"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title,year\nA,2020\n ,2021\n")),
              HasSubstr("line 3: missing title"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title,year\nA,20x0\n")),
              HasSubstr("line 2: year '20x0' is not a year between 1900 and 2100"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title,year\nA,1850\n")), HasSubstr("line 2: year '1850'"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title,doi\nA,11.1/x\n")),
              HasSubstr("line 2: DOI '11.1/x' does not start with '10.'"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title,doi\nA,10.1/x\nB,doi:10.1/X\n")),
              HasSubstr("line 3: DOI 10.1/x appears twice"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title,external_id\nA,7\nB,7\n")),
              HasSubstr("line 3: external id '7' appears twice"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title,study_type\nA,CNN\n")),
              HasSubstr("line 2: unknown study type 'CNN'"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title\n\"A\n")),
              HasSubstr("line 2: quoted field not closed"));
  EXPECT_THAT(ErrorOf(ParseStudiesCsv("title\n\"A\"x\n")),
              HasSubstr("line 2: unexpected character after a closing quote"));
}

constexpr char kRis[] =
    "TY  - JOUR\r\n"
    "TI  - Radiomics of lung cancer:\r\n"
    "      a long wrapped title\r\n"
    "AU  - Smith, John\r\n"
    "AU  - Doe, Anna\r\n"
    "PY  - 2021///\r\n"
    "DO  - 10.1016/j.ejrad.2021.01.001\r\n"
    "ID  - 42\r\n"
    "AB  - An abstract that\r\n"
    "  wraps over lines.\r\n"
    "N1  - First note\r\n"
    "ER  - \r\n"
    "\r\n"
    "TY  - CHAP\n"
    "T1  - Second study\n"
    "Y1  - 2019/05/01/\n"
    "ER  - \n";

TEST(ParseStudiesRisTest, ReadsRecordsAsReferenceManagersExportThem) {
  const absl::StatusOr<std::vector<StudyRecord>> studies = ParseStudiesRis(kRis);
  ASSERT_TRUE(studies.ok()) << studies.status();
  ASSERT_EQ(studies->size(), 2u);
  const StudyRecord& first = (*studies)[0];
  EXPECT_EQ(first.title, "Radiomics of lung cancer: a long wrapped title");
  EXPECT_THAT(first.authors, ElementsAre("Smith, John", "Doe, Anna"));
  EXPECT_EQ(first.year, 2021);
  EXPECT_EQ(first.doi, "10.1016/j.ejrad.2021.01.001");
  EXPECT_EQ(first.external_id, "42");
  EXPECT_EQ(first.notes, "First note");
  EXPECT_FALSE(first.study_type.has_value());
  EXPECT_EQ((*studies)[1].title, "Second study");
  EXPECT_EQ((*studies)[1].year, 2019);
  EXPECT_EQ((*studies)[1].line, 14u);
}

TEST(ParseStudiesRisTest, RejectsBrokenFilesNamingTheLine) {
  EXPECT_THAT(ErrorOf(ParseStudiesRis("")), HasSubstr("no studies"));
  EXPECT_THAT(ErrorOf(ParseStudiesRis("TY  - JOUR\nTI  - A\n")),
              HasSubstr("line 1: record has no end"));
  EXPECT_THAT(ErrorOf(ParseStudiesRis("TI  - A\nER  - \n")),
              HasSubstr("line 1: tag TI outside a record"));
  EXPECT_THAT(ErrorOf(ParseStudiesRis("TY  - JOUR\nTY  - JOUR\n")),
              HasSubstr("line 2: new record (TY) before the previous one ended"));
  EXPECT_THAT(ErrorOf(ParseStudiesRis("TY  - JOUR\nAU  - X\nER  - \n")),
              HasSubstr("line 1: missing title"));
  EXPECT_THAT(ErrorOf(ParseStudiesRis("TY  - JOUR\nTI  - A\nPY  - 20xx\nER  - \n")),
              HasSubstr("line 3: year '20xx'"));
  EXPECT_THAT(ErrorOf(ParseStudiesRis("garbage\n")), HasSubstr("line 1: not a RIS tag line"));
}

TEST(DetectStudyFileFormatTest, ByExtensionThenContent) {
  EXPECT_EQ(DetectStudyFileFormat("refs.RIS", "title\n"), StudyFileFormat::kRis);
  EXPECT_EQ(DetectStudyFileFormat("refs.csv", kRis), StudyFileFormat::kCsv);
  EXPECT_EQ(DetectStudyFileFormat("-", kRis), StudyFileFormat::kRis);
  EXPECT_EQ(DetectStudyFileFormat("-", "title,doi\n"), StudyFileFormat::kCsv);
}

TEST(NormaliseDoiTest, StripsResolverPrefixes) {
  EXPECT_EQ(*NormaliseDoi(" https://doi.org/10.1/x "), "10.1/x");
  EXPECT_EQ(*NormaliseDoi("doi:10.1/x"), "10.1/x");
  EXPECT_EQ(*NormaliseDoi("DOI: 10.1/x"), "10.1/x");
  EXPECT_FALSE(NormaliseDoi("10.1").ok());
}

}  // namespace
}  // namespace rqs::client
