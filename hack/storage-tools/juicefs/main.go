// Command juicefs is the upstream JuiceFS client, built from its Go module through this wrapper
// because github.com/juicedata/juicefs's go.mod carries replace directives that only a main module
// may state. Test and demo tooling only (see hack/storage-tools.sh); nothing here is shipped.
package main

import (
	"os"

	"github.com/juicedata/juicefs/cmd"
	"github.com/juicedata/juicefs/pkg/utils"
)

var logger = utils.GetLogger("juicefs")

func main() {
	if err := cmd.Main(os.Args); err != nil {
		logger.Fatal(err)
	}
}
