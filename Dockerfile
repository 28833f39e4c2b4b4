# The API as one static binary in a distroless image: no shell, no package
# manager, CA certificates for JWKS and sslmode=verify-full, user 65532.
#
#   docker build -t todoapi .
#   docker run --rm -e DATABASE_URL=<owner's URL> todoapi migrate up
#   docker run --rm -e DATABASE_URL=<login role's URL> -e JWT_SECRET=... -p 8080:8080 todoapi
#
# The Go version is go.mod's toolchain line: change both together.
FROM golang:1.26.11-trixie AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/todoapi ./cmd/todoapi

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /out/todoapi /todoapi
USER 65532:65532
# Inside a container the API must listen on all interfaces to be reachable.
ENV LISTEN_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/todoapi"]
CMD ["serve"]
