# Reproducible build and test environment: the same steps CI runs.
#   docker build -t hx .
#   docker run --rm --device /dev/kvm hx            # make test, KVM suite included
FROM debian:12
WORKDIR /src/hx
COPY ci/deps.sh ci/deps.sh
RUN bash ci/deps.sh
COPY . .
RUN make
CMD ["make", "test"]
