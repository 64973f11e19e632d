{
  "targets": [
    {
      "target_name": "ionsieve_native",
      "sources": ["ionsieve_native.c"],
      "cflags": ["-O3", "-Wall", "-Wextra", "-fno-math-errno"],
      "libraries": ["-lopenblas", "-lm"]
    }
  ]
}
