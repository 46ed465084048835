// rqs.v1.InstrumentService: serves the built-in rubrics from scoring/.
#include "scoring/instrument.h"
#include "server/convert.h"
#include "server/limits.h"
#include "server/services.h"

namespace rqs::server {

grpc::ServerUnaryReactor* InstrumentServiceImpl::ListInstruments(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary(env_, context, request, response,
                    [](const Caller&, const v1::ListInstrumentsRequest&,
                       v1::ListInstrumentsResponse* out) {
                      for (const scoring::Instrument* instrument : scoring::AllInstruments()) {
                        ToProto(*instrument, out->add_instruments());
                      }
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* InstrumentServiceImpl::GetInstrument(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeUnary(
      env_, context, request, response,
      [](const Caller&, const v1::GetInstrumentRequest& in, v1::GetInstrumentResponse* out) {
        if (absl::Status status =
                CheckRequiredText("instrument_id", in.instrument_id(), kMaxIdentifierChars);
            !status.ok()) {
          return status;
        }
        absl::StatusOr<const scoring::Instrument*> instrument =
            scoring::FindInstrument(in.instrument_id());
        // An unknown id is a lookup miss on this RPC, not a malformed argument.
        if (!instrument.ok()) return absl::NotFoundError(instrument.status().message());
        ToProto(**instrument, out->mutable_instrument());
        return absl::OkStatus();
      });
}

}  // namespace rqs::server
