return ServerV3.Server.Cli.CommandLine.Run(args);
