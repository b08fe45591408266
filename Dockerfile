# Build a static binary, then run it as a non-root user on a minimal image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/chatd ./cmd/chatd \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/chatd /chatd
COPY --from=build --chown=nonroot:nonroot /out/data /data
# New goroutines start at the smallest stack rather than the running
# average, which a burst of connections inflates for every idle reader.
ENV CHAT_ADDR=:8080 CHAT_DATA=/data/chat.db GODEBUG=adaptivestackstart=0
VOLUME /data
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/chatd"]
