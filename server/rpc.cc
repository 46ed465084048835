#include "server/rpc.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/limits.h"

namespace rqs::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

// Returns the path of the first string field of `fields` (wire data of a
// `descriptor` message, read without any UTF-8 check) that is not valid
// UTF-8, or "" if there is none.
std::string FindInvalidUtf8(const UnknownFieldSet& fields, const Descriptor& descriptor,
                            const std::string& prefix) {
  std::map<int, int> seen;  // Occurrences so far per field number: repeated indices.
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& field = fields.field(i);
    const int index = seen[field.number()]++;
    const FieldDescriptor* described = descriptor.FindFieldByNumber(field.number());
    if (described == nullptr || field.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    std::string path = absl::StrCat(prefix, described->name());
    if (described->is_repeated()) absl::StrAppend(&path, "[", index, "]");
    if (described->type() == FieldDescriptor::TYPE_STRING) {
      if (!IsValidUtf8(field.length_delimited())) return path;
    } else if (described->type() == FieldDescriptor::TYPE_MESSAGE) {
      UnknownFieldSet nested;
      if (nested.ParseFromString(field.length_delimited())) {
        std::string found = FindInvalidUtf8(nested, *described->message_type(), path + ".");
        if (!found.empty()) return found;
      }
    }
  }
  return "";
}

}  // namespace

std::string AuthorizationOf(const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

absl::Status DecodeRequest(const grpc::ByteBuffer& buffer, google::protobuf::Message* message) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (grpc::Status dumped = buffer.Dump(&slices); !dumped.ok()) {
    return absl::InvalidArgumentError("the request could not be read");
  }
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  if (message->ParseFromString(bytes)) return absl::OkStatus();
  // protobuf rejects proto3 strings that are not UTF-8 without saying which;
  // find the field so the client learns what to fix.
  UnknownFieldSet fields;
  if (fields.ParseFromString(bytes)) {
    const std::string path = FindInvalidUtf8(fields, *message->GetDescriptor(), "");
    if (!path.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " is not valid UTF-8"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the request is not a valid ", message->GetDescriptor()->full_name()));
}

absl::Status EncodeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* buffer) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    return absl::InternalError(
        absl::StrCat("cannot serialize ", message.GetDescriptor()->full_name()));
  }
  grpc::Slice slice(bytes);
  *buffer = grpc::ByteBuffer(&slice, 1);
  return absl::OkStatus();
}

}  // namespace rqs::server
